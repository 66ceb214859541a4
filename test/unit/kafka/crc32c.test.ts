import { describe, expect, test } from "bun:test";
import kafkajsCrc32C from "kafkajs/src/protocol/recordBatch/crc32C/crc32C.js";
import { crc32c } from "../../../src/kafka/crc32c.ts";
import { createRandom } from "../../../scripts/gen-sample.ts";

describe("crc32c gives kafkajs' CRC-32C", () => {
  test("the standard check value: CRC-32C of '123456789' is 0xe3069283", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(kafkajsCrc32C(Buffer.alloc(0)));
  });

  test("random buffers of every length up to 300 and every start within a shared buffer", () => {
    const random = createRandom(20261201); // seeded, so a failure can be replayed
    const pool = Buffer.alloc(4096);
    for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(random() * 256);
    for (let length = 0; length <= 300; length++) {
      for (let start = 0; start < 9; start++) {
        const bytes = pool.subarray(start + length, start + 2 * length);
        expect(crc32c(bytes)).toBe(kafkajsCrc32C(bytes));
      }
    }
    for (let i = 0; i < 200; i++) {
      const start = Math.floor(random() * 2048);
      const bytes = pool.subarray(start, start + Math.floor(random() * 2048));
      expect(crc32c(bytes)).toBe(kafkajsCrc32C(bytes));
    }
  });

  test("all-zero and all-0xff buffers, and a large one", () => {
    for (const fill of [0, 0xff]) for (const length of [1, 7, 8, 9, 64, 1000]) expect(crc32c(Buffer.alloc(length, fill))).toBe(kafkajsCrc32C(Buffer.alloc(length, fill)));
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    expect(crc32c(big)).toBe(kafkajsCrc32C(big));
  });
});
