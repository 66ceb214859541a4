/**
 * Items packed for the scan worker's message come out equal to what went in: values, keys (views
 * of their value or bytes of their own), lines, byte counts and rejections, in order.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { packItems, unpackItems } from "../../../src/input/packed-items.ts";
import type { InputItem } from "../../../src/input/read-elements.ts";
import { asText } from "./text-items.ts";

const text = fc.string({ unit: fc.constantFrom("a", "1", '"', "é", "😀", "{", "}"), maxLength: 40 });
const line = fc.integer({ min: 1, max: 2 ** 40 });

/** An element whose key is a view of its value (a plain id), bytes of its own (an escaped id) or absent. */
const element = fc.record({ value: text, keyKind: fc.constantFrom("none", "view", "own"), own: text, line, bytes: fc.integer({ min: 0, max: 2 ** 31 }) }).map(
  ({ value, keyKind, own, line, bytes }): InputItem => {
    const valueBytes = Buffer.from(value);
    const key = keyKind === "none" ? undefined : keyKind === "view" ? valueBytes.subarray(valueBytes.length >> 2, valueBytes.length >> 1) : Buffer.from(own);
    return { kind: "element", value: valueBytes, key, line, bytes };
  },
);
const rejected = fc.record({ line, reason: text }).map(({ line, reason }): InputItem => ({ kind: "rejected", line, reason }));

/** Several values in one slab, as the reader hands them out. */
function slabItems(values: string[]): InputItem[] {
  const slab = Buffer.from(values.join(""));
  let at = 0;
  return values.map((value, i) => {
    const length = Buffer.byteLength(value);
    const view = slab.subarray(at, at + length);
    at += length;
    return { kind: "element", value: view, key: view.subarray(0, Math.min(2, length)), line: i + 1, bytes: length };
  });
}

describe("packed input items", () => {
  test("unpack gives back every item, in order, with its key", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: element }, { weight: 1, arbitrary: rejected }), { maxLength: 30 }), (items) => {
        expect(unpackItems(packItems(items)).map(asText)).toEqual(items.map(asText));
      }),
      { seed: 21, numRuns: 300 },
    );
  });

  test("values sharing one slab are packed as their own bytes, not the whole slab", () => {
    const items = slabItems(['{"id":1}', '{"id":22}', "[]"]);
    const packed = packItems(items);
    expect(packed.data.length).toBe(8 + 9 + 2);
    expect(unpackItems(packed).map(asText)).toEqual(items.map(asText));
  });

  test("a key inside its value is not copied twice; a key of its own is", () => {
    const value = Buffer.from('{"id":"abc"}');
    const inside: InputItem = { kind: "element", value, key: value.subarray(7, 10), line: 1, bytes: 12 };
    const own: InputItem = { kind: "element", value, key: Buffer.from("abc"), line: 2, bytes: 12 };
    expect(packItems([inside]).data.length).toBe(12);
    expect(packItems([own]).data.length).toBe(15);
  });
});
