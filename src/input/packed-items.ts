/**
 * produce's scanned input items packed to move between threads: one byte array holding every
 * element's value (and each key that is not a part of its value), one Float64Array of numbers per
 * item (exact for any line number), and the rejections' reasons. The two arrays are transferred,
 * not copied, so a batch of a few thousand elements costs one message instead of a structured
 * clone of as many objects.
 * Pure: a batch packed by the scan worker's sink unpacks to the items the reader gives on this
 * thread (a property test pins it).
 */
import { ID_NONE, ID_NUMBER, ID_PLAIN_STRING } from "./json-scan.ts";
import { type BatchSink, escapedKey, type InputItem } from "./read-elements.ts";

export interface PackedItems {
  readonly data: Uint8Array;
  /** Per item: value start, value length (-1: a rejection, its reason at `start`), key start (-1: none), key length, line, bytes. */
  readonly meta: Float64Array;
  readonly reasons: string[];
}

const FIELDS = 6;

/** A batch's starting room; a chunk of 256-512 KiB of input needs about that much, and a larger one grows it. */
const START_BYTES = 512 * 1024;
const START_ITEMS = 4096;

/**
 * The scan worker's sink: each element's compact text copied once, straight from the scanned bytes
 * into the batch's array, and its numbers into the meta array. take() hands out arrays of the
 * exact size (fresh ones, since the worker transfers them) and keeps its room for the next batch.
 */
export function createPackedSink(): BatchSink<PackedItems> {
  let data = new Uint8Array(START_BYTES);
  let meta = new Float64Array(START_ITEMS * FIELDS);
  let used = 0;
  let count = 0;
  let reasons: string[] = [];
  const room = (bytes: number) => {
    if (used + bytes <= data.length) return;
    const grown = new Uint8Array(Math.max(used + bytes, data.length * 2));
    grown.set(data.subarray(0, used));
    data = grown;
  };
  const nextItem = (): number => {
    if ((count + 1) * FIELDS > meta.length) {
      const grown = new Float64Array(meta.length * 2);
      grown.set(meta);
      meta = grown;
    }
    return count++ * FIELDS;
  };
  return {
    get size() {
      return count;
    },
    element(bytes, start, scan, line) {
      const from = scan.compactLength < 0 ? bytes : scan.compact;
      const offset = scan.compactLength < 0 ? start : 0;
      const length = scan.compactLength < 0 ? scan.end - start : scan.compactLength;
      room(length);
      const valueStart = used;
      // Buffer's copy takes any Uint8Array as its source, without the view set() would need.
      Buffer.prototype.copy.call(from, data, valueStart, offset, offset + length);
      used += length;
      const at = nextItem();
      meta[at] = valueStart;
      meta[at + 1] = length;
      meta[at + 4] = line;
      meta[at + 5] = scan.end - start;
      if (scan.idKind === ID_NONE) {
        meta[at + 2] = -1;
        return;
      }
      // A number or a plain string id is a view of the value; an id with escapes is decoded into bytes of its own.
      if (scan.idKind === ID_NUMBER) {
        meta[at + 2] = valueStart + scan.idStart;
        meta[at + 3] = scan.idEnd - scan.idStart;
      } else if (scan.idKind === ID_PLAIN_STRING) {
        meta[at + 2] = valueStart + scan.idStart + 1;
        meta[at + 3] = scan.idEnd - scan.idStart - 2;
      } else {
        const key = escapedKey(data.subarray(valueStart, used), scan);
        room(key.length);
        data.set(key, used);
        meta[at + 2] = used;
        meta[at + 3] = key.length;
        used += key.length;
      }
    },
    rejected(line, reason) {
      const at = nextItem();
      meta[at] = reasons.length;
      meta[at + 1] = -1;
      meta[at + 4] = line;
      reasons.push(reason);
    },
    take() {
      const packed = { data: data.slice(0, used), meta: meta.slice(0, count * FIELDS), reasons };
      used = 0;
      count = 0;
      reasons = [];
      return packed;
    },
  };
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
