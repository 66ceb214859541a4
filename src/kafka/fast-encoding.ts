/**
 * Faster drop-in bodies for the varint methods of kafkajs' protocol Encoder, installed once when
 * the first client is built. kafkajs encodes every record's varints through a throw-away array and
 * Buffer, and every 64-bit varint (the record's timestamp delta) through BigInt-backed Long
 * objects; in profiles of produce and stream-clean that was about a third of all CPU time. These
 * write the same bytes straight into the encoder's buffer (pinned by a unit test against the
 * originals) and fall back to the originals for anything outside the fast path.
 */
// kafkajs' internals have no types; the shapes used here are declared in kafkajs-internals.d.ts.
import Encoder from "kafkajs/src/protocol/encoder.js";

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

/** Zigzag of a 64-bit value stays exact in a double while |value| < 2^52. */
const FAST_LIMIT = 2 ** 52;

const original = {
  writeUVarInt: Encoder.prototype.writeUVarInt,
  writeVarInt: Encoder.prototype.writeVarInt,
  writeVarLong: Encoder.prototype.writeVarLong,
  ensureAvailable: Encoder.prototype.ensureAvailable,
  sizeOfVarLong: Encoder.sizeOfVarLong,
};

export const originalEncoding = original;

let installed = false;

export function installFastEncoding(): void {
  if (installed) return;
  installed = true;
  const proto = Encoder.prototype as unknown as Record<string, unknown>;

  proto.writeUVarInt = function writeUVarInt(this: EncoderInstance, value: number) {
    // The original works on the value's 32-bit pattern (bitwise operators): so does this.
    let v = value >>> 0;
    this.ensureAvailable(5);
    const buf = this.buf;
    let offset = this.offset;
    while (v > 0x7f) {
      buf[offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[offset++] = v;
    this.offset = offset;
    return this;
  };

  proto.writeVarInt = function writeVarInt(this: EncoderInstance & { writeUVarInt(v: number): unknown }, value: number) {
    return this.writeUVarInt((value << 1) ^ (value >> 31));
  };

  proto.writeVarLong = function writeVarLong(this: EncoderInstance, value: unknown) {
    if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) >= FAST_LIMIT) return original.writeVarLong.call(this, value);
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    this.ensureAvailable(10);
    const buf = this.buf;
    let offset = this.offset;
    while (zigzag > 0x7f) {
      buf[offset++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    buf[offset++] = zigzag;
    this.offset = offset;
    return this;
  };

  // Growing the buffer need not zero it: only bytes below `offset` are ever read.
  proto.ensureAvailable = function ensureAvailable(this: EncoderInstance, length: number) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };

  (Encoder as unknown as Record<string, unknown>).sizeOfVarLong = (value: unknown): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) >= FAST_LIMIT) return original.sizeOfVarLong.call(Encoder, value);
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    let bytes = 1;
    while (zigzag > 0x7f) {
      bytes++;
      zigzag = Math.floor(zigzag / 128);
    }
    return bytes;
  };
}
