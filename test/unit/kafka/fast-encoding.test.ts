/**
 * The faster varint bodies installed into kafkajs' Encoder write exactly the bytes the originals
 * wrote, for every kind of value kafkajs hands them (small, large, negative, beyond 32 bits, Long).
 */
import { describe, expect, test } from "bun:test";
import Encoder from "kafkajs/src/protocol/encoder.js";
import { installFastEncoding, originalEncoding } from "../../../src/kafka/fast-encoding.ts";

installFastEncoding();

const int32s = [0, 1, -1, 63, 64, -64, -65, 127, 128, 300, -300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 31 - 1, -(2 ** 31), 123_456_789];
const longs = [...int32s, 2 ** 31, 2 ** 32 + 5, -(2 ** 40), 1_764_000_000_000, -1_764_000_000_000, 2 ** 52 - 1, -(2 ** 52 - 1), 2 ** 52, -(2 ** 53), 2 ** 53];

function bytes(write: (encoder: Encoder) => void): string {
  const encoder = new Encoder();
  write(encoder);
  return encoder.buffer.toString("hex");
}

describe("kafkajs encoder fast paths", () => {
  test("writeVarInt and writeUVarInt write the original bytes", () => {
    for (const value of int32s) {
      expect(bytes((e) => e.writeVarInt(value))).toBe(bytes((e) => originalEncoding.writeVarInt.call(e, value)));
      expect(bytes((e) => e.writeUVarInt(value))).toBe(bytes((e) => originalEncoding.writeUVarInt.call(e, value)));
    }
  });

  test("writeVarLong and sizeOfVarLong agree with the BigInt originals, fast path or not", () => {
    for (const value of longs) {
      const fast = bytes((e) => e.writeVarLong(value));
      expect(fast).toBe(bytes((e) => originalEncoding.writeVarLong.call(e, value)));
      expect(Encoder.sizeOfVarLong(value)).toBe(originalEncoding.sizeOfVarLong.call(Encoder, value));
      expect(Encoder.sizeOfVarLong(value)).toBe(fast.length / 2);
    }
  });

  test("random values round-trip identically", () => {
    for (let i = 0; i < 20_000; i++) {
      const value = Math.floor((Math.random() - 0.5) * 2 ** (1 + Math.floor(Math.random() * 53)));
      expect(bytes((e) => e.writeVarLong(value))).toBe(bytes((e) => originalEncoding.writeVarLong.call(e, value)));
      const small = value | 0;
      expect(bytes((e) => e.writeVarInt(small))).toBe(bytes((e) => originalEncoding.writeVarInt.call(e, small)));
    }
  });

  test("a buffer grown past its first size keeps everything written before", () => {
    const encoder = new Encoder(4);
    const expected = new Encoder(4);
    for (let i = 0; i < 5_000; i++) {
      encoder.writeVarInt(i * 37).writeInt8(i % 100);
      originalEncoding.writeVarInt.call(expected, i * 37);
      expected.writeInt8(i % 100);
    }
    expect(encoder.buffer.equals(expected.buffer)).toBe(true);
  });
});
