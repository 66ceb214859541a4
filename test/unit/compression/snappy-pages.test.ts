import { describe, expect, test } from "bun:test";
import { snappyUncompress } from "hyparquet";
import { snappyCompress } from "hyparquet-writer/src/snappy.js";
import { createRandom, makeRecord } from "../../../scripts/gen-sample.ts";
import { snappyCompressPage } from "../../../src/compression/snappy-pages.ts";

/** Inputs that reach every branch: empty, tiny, runs, long literals, far and near matches, high bytes. */
function inputs(): Uint8Array<ArrayBuffer>[] {
  const random = createRandom(14);
  const list: Uint8Array<ArrayBuffer>[] = [new Uint8Array(0), new Uint8Array([7]), new Uint8Array(14).fill(1), new Uint8Array(15).fill(200), new Uint8Array(100_000).fill(0xff)];
  for (let round = 0; round < 60; round++) {
    const size = Math.floor(random() ** 2 * 300_000);
    const bytes = new Uint8Array(size);
    const alphabet = 1 + Math.floor(random() * 255);
    for (let index = 0; index < size; index++) {
      // Mostly fresh bytes, sometimes a copy from near or far behind (beyond 65535 too).
      if (index > 70_000 && random() < 0.3) bytes[index] = bytes[index - 1 - Math.floor(random() * 70_000)]!;
      else if (index > 8 && random() < 0.5) bytes[index] = bytes[index - 1 - Math.floor(random() * 8)]!;
      else bytes[index] = Math.floor(random() * alphabet) + (random() < 0.1 ? 128 : 0);
    }
    list.push(bytes);
  }
  const records = Array.from({ length: 5_000 }, (_, index) => JSON.stringify(makeRecord(index + 1, random))).join("\n");
  list.push(new TextEncoder().encode(records));
  return list;
}

describe("Snappy for Parquet pages", () => {
  test("gives the very bytes hyparquet-writer's own compressor gives, on every input", () => {
    for (const input of inputs()) expect(Buffer.from(snappyCompressPage(input)).equals(Buffer.from(snappyCompress(input)))).toBe(true);
  });

  test("decompresses back to the input with hyparquet's reader", () => {
    for (const input of inputs()) {
      const output = new Uint8Array(input.length);
      snappyUncompress(snappyCompressPage(input), output);
      expect(output).toEqual(input);
    }
  });
});
