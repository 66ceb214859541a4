/** produce's input: open a file or stdin, then stream its elements. */
export { openInput, type OpenedInput } from "./open.ts";
export { readElementBatches, type InputItem } from "./read-elements.ts";
