/**
 * The byte-key table against a Map of the same keys: the same key always gets the same id, a
 * different key (another tag, other bytes, a prefix) a new one, ids dense in the order keys first
 * came, through the table's growth (seeded).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ByteKeyTable } from "../../../src/measure/byte-keys.ts";

const key = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes)));

describe("byte-key table", () => {
  test("gives each distinct (tag, bytes) one id, dense in first-seen order, whatever the bytes sit in", () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), fc.nat({ max: 7 }), (keys, pad) => {
        const table = new ByteKeyTable();
        const model = new Map<string, number>();
        for (const [tag, bytes] of keys) {
          // The key's bytes somewhere inside a larger array, as a value's field is.
          const holder = Buffer.concat([Buffer.alloc(pad, 0xaa), bytes, Buffer.alloc(3, 0xbb)]);
          const name = `${tag}/${bytes.toString("hex")}`;
          if (!model.has(name)) model.set(name, model.size);
          expect(table.add(tag, holder, pad, pad + bytes.length)).toBe(model.get(name)!);
          expect(table.size).toBe(model.size);
        }
        for (const [name, id] of model) expect(Buffer.from(table.bytesOf(id)).toString("hex")).toBe(name.slice(name.indexOf("/") + 1));
      }),
      { seed: 41, numRuns: 500 },
    );
  });

  test("keeps 200,000 keys apart through many rehashes and arena growths", () => {
    const table = new ByteKeyTable();
    const text = (i: number) => Buffer.from(`user${i}@example.org`);
    for (let i = 0; i < 200_000; i++) expect(table.add(i % 7, text(i), 0, text(i).length)).toBe(i);
    for (let i = 0; i < 200_000; i += 997) expect(table.add(i % 7, text(i), 0, text(i).length)).toBe(i);
    expect(table.add(1, text(0), 0, text(0).length)).toBe(200_000);
    expect(table.size).toBe(200_001);
  });

  test("refuses a key past its byte limit with an error, and keeps the keys it holds", () => {
    const limit = 100_000;
    const table = new ByteKeyTable(limit);
    const key = (i: number) => Buffer.from(`${i}`.padStart(1000, "x"));
    for (let i = 0; i < 100; i++) table.add(0, key(i), 0, 1000);
    expect(() => table.add(0, key(100), 0, 1000)).toThrow(/their bytes pass 100000/);
    expect(table.size).toBe(100);
    expect(table.add(0, key(42), 0, 1000)).toBe(42);
  });
});
