/**
 * produce's scanned input items packed to move between threads: one byte array holding every
 * element's value (and each key that is not a part of its value), one Float64Array of numbers per
 * item (exact for any line number), and the rejections' reasons. The two arrays are transferred,
 * not copied, so a batch of a few thousand elements costs one message instead of a structured
 * clone of as many objects.
 * Pure: unpackItems(packItems(items)) gives items equal to the originals (a property test pins it).
 */
import type { InputItem } from "./read-elements.ts";

export interface PackedItems {
  readonly data: Uint8Array;
  /** Per item: value start, value length (-1: a rejection, its reason at `start`), key start (-1: none), key length, line, bytes. */
  readonly meta: Float64Array;
  readonly reasons: string[];
}

const FIELDS = 6;

/** The key's offset inside its value when it is a view of it, else -1. */
function keyInValue(value: Buffer, key: Buffer): number {
  if (key.buffer !== value.buffer) return -1;
  const at = key.byteOffset - value.byteOffset;
  return at >= 0 && at + key.length <= value.length ? at : -1;
}

export function packItems(items: readonly InputItem[]): PackedItems {
  let total = 0;
  for (const item of items) {
    if (item.kind !== "element") continue;
    total += item.value.length;
    if (item.key && keyInValue(item.value, item.key) < 0) total += item.key.length;
  }
  const data = new Uint8Array(total);
  const meta = new Float64Array(items.length * FIELDS);
  const reasons: string[] = [];
  let offset = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const at = i * FIELDS;
    meta[at + 4] = item.line;
    if (item.kind === "rejected") {
      meta[at] = reasons.length;
      meta[at + 1] = -1;
      reasons.push(item.reason);
      continue;
    }
    const { value, key } = item;
    data.set(value, offset);
    meta[at] = offset;
    meta[at + 1] = value.length;
    meta[at + 5] = item.bytes;
    const valueStart = offset;
    offset += value.length;
    if (!key) {
      meta[at + 2] = -1;
      continue;
    }
    const inValue = keyInValue(value, key);
    if (inValue >= 0) {
      meta[at + 2] = valueStart + inValue;
    } else {
      data.set(key, offset);
      meta[at + 2] = offset;
      offset += key.length;
    }
    meta[at + 3] = key.length;
  }
  return { data, meta, reasons };
}

export function unpackItems({ data, meta, reasons }: PackedItems): InputItem[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const count = meta.length / FIELDS;
  const items: InputItem[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * FIELDS;
    const start = meta[at]!;
    const length = meta[at + 1]!;
    const line = meta[at + 4]!;
    if (length < 0) {
      items[i] = { kind: "rejected", line, reason: reasons[start]! };
      continue;
    }
    const keyStart = meta[at + 2]!;
    const key = keyStart < 0 ? undefined : bytes.subarray(keyStart, keyStart + meta[at + 3]!);
    items[i] = { kind: "element", value: bytes.subarray(start, start + length), key, line, bytes: meta[at + 5]! };
  }
  return items;
}
