/** produce's input: open a file or stdin, then stream its elements, on this thread or a second one. */
import type { OpenedInput } from "./open.ts";
import { type InputItem, readElementBatches } from "./read-elements.ts";
import { readElementBatchesInWorker } from "./scan-thread.ts";

export { openInput, type OpenedInput } from "./open.ts";
export { readElementBatches, type InputItem } from "./read-elements.ts";

/**
 * The input's items in batches. A file is read and scanned on the scan worker when `inWorker`
 * (the same items, in the same order); stdin always on this thread, since only this thread has it.
 */
export function elementBatches(input: OpenedInput, inWorker: boolean): AsyncGenerator<InputItem[]> {
  return inWorker && input.file !== undefined ? readElementBatchesInWorker(input.file) : readElementBatches(input.stream, input.name);
}
