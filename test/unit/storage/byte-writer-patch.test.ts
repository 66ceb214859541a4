/**
 * The faster ByteWriter.appendBytes writes the bytes hyparquet-writer's own does: whole Parquet
 * files of random rows compared byte for byte, with the buffer growing under the copies.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ByteWriter } from "hyparquet-writer";
import { fastAppendBytes, installFastByteWriter, originalAppendBytes } from "../../../src/storage/byte-writer-patch.ts";
import { encodeParquet, type ParquetColumns } from "../../../src/storage/parquet-format.ts";

const text = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", "é", "€", "😀", "@", "."), maxLength: 80 });
const row = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  first_name: text,
  last_name: fc.option(text, { nil: null }),
  email: text,
  gender: fc.option(fc.constantFrom("Male", "Female", "Non-binary"), { nil: null }),
  ip_addr: text,
  date: fc.option(fc.constantFrom("01/02/2020", "31/12/1999"), { nil: null }),
  country: fc.option(text, { nil: null }),
  timestamp: fc.bigInt({ min: 0n, max: 253402300799999n }),
  source_offset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
});

type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

function columnsOf(rows: Row[]): ParquetColumns {
  return {
    id: rows.map((r) => r.id),
    first_name: rows.map((r) => r.first_name),
    last_name: rows.map((r) => r.last_name),
    email: rows.map((r) => r.email),
    gender: rows.map((r) => r.gender),
    ip_addr: rows.map((r) => r.ip_addr),
    date: rows.map((r) => r.date),
    country: rows.map((r) => r.country),
    timestamp: rows.map((r) => r.timestamp),
    source_partition: new Int32Array(rows.length).fill(2),
    source_offset: rows.map((r) => r.source_offset),
  };
}

function encodedWith(appendBytes: typeof ByteWriter.prototype.appendBytes, columns: ParquetColumns): Uint8Array {
  const before = ByteWriter.prototype.appendBytes;
  ByteWriter.prototype.appendBytes = appendBytes;
  try {
    return encodeParquet(columns, { codec: "snappy" });
  } finally {
    ByteWriter.prototype.appendBytes = before;
  }
}

describe("ByteWriter.appendBytes, patched", () => {
  test("installs for the hyparquet-writer version it was written for, not for another", () => {
    expect(installFastByteWriter("0.99.0")).toBe(false);
    expect(installFastByteWriter()).toBe(true);
    expect(ByteWriter.prototype.appendBytes).toBe(fastAppendBytes as never);
  });

  test("writes the same Parquet bytes as hyparquet-writer's own, over random rows", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 300 }), (rows) => {
        const columns = columnsOf(rows);
        const ours = encodedWith(fastAppendBytes as never, columns);
        const theirs = encodedWith(originalAppendBytes, columns);
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      }),
      { numRuns: 60, seed: 14 },
    );
  });

  test("copies short and long values into a growing buffer at the right places", () => {
    const ours = new ByteWriter(4);
    const theirs = new ByteWriter(4);
    const values = [3, 0, 31, 32, 33, 100, 5000, 1].map((length, index) => Uint8Array.from({ length }, (_, i) => (i * 7 + index) & 0xff));
    for (const value of values) {
      fastAppendBytes.call(ours as never, value);
      originalAppendBytes.call(theirs, value);
      ours.appendUint32(value.length);
      theirs.appendUint32(value.length);
    }
    expect(Buffer.from(ours.getBytes()).equals(Buffer.from(theirs.getBytes()))).toBe(true);
    expect(ours.offset).toBe(theirs.offset);
  });
});
