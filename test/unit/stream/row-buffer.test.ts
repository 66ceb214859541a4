/**
 * The row buffer's int64 columns hold exactly BigInt(id), BigInt(timestamp) and
 * source_offset of each row, for ids and timestamps anywhere in the safe integer range and
 * offsets beyond 2^53, through the buffer's growth; and its offset range is the rows' (seeded).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { CleanRow } from "../../../src/clean/types.ts";
import { createRowBuffer } from "../../../src/stream/row-buffer.ts";

const safe = fc.oneof(fc.constantFrom(0, -1, 1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER), fc.maxSafeInteger(), fc.integer());
const offset = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), fc.bigInt({ min: 10n ** 15n, max: 2n ** 63n - 1n }), fc.constantFrom(0n, 999_999_999_999_999n, 1_000_000_000_000_000n));
const row = fc.tuple(safe, safe, offset).map(
  ([id, timestamp, source]): CleanRow => ({
    id, first_name: "a", last_name: null, email: "e", gender: null, ip_addr: "1.2.3.4", date: null, country: null, timestamp, source_partition: 3, source_offset: source,
  }),
);

describe("row buffer", () => {
  test("int64 columns and the offset range are the rows' values exactly, through the buffer's growth", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3000 }), (rows) => {
        const buffer = createRowBuffer();
        for (const r of rows) buffer.append(r);
        const columns = buffer.columns();
        expect([...columns.id]).toEqual(rows.map((r) => BigInt(r.id)));
        expect([...columns.timestamp]).toEqual(rows.map((r) => BigInt(r.timestamp)));
        expect([...columns.source_offset]).toEqual(rows.map((r) => r.source_offset));
        const offsets = rows.map((r) => r.source_offset);
        expect(buffer.minOffset).toBe(offsets.reduce((a, b) => (b < a ? b : a)));
        expect(buffer.maxOffset).toBe(offsets.reduce((a, b) => (b > a ? b : a)));
        expect(buffer.count).toBe(rows.length);
      }),
      { seed: 47, numRuns: 150 },
    );
  });
});
