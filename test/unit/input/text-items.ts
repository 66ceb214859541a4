/**
 * The reader's items with their value and key as text, the shape the tests compare: decoding the
 * bytes here pins that they are exactly the UTF-8 of the compact JSON and of the key.
 */
import type { InputItem } from "../../../src/input/read-elements.ts";

export type TextItem =
  | { readonly kind: "element"; readonly json: string; readonly key: string | undefined; readonly line: number; readonly bytes: number }
  | Extract<InputItem, { kind: "rejected" }>;

export function asText(item: InputItem): TextItem {
  if (item.kind !== "element") return item;
  return { kind: "element", json: item.value.toString("utf8"), key: item.key?.toString("utf8"), line: item.line, bytes: item.bytes };
}
