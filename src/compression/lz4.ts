/**
 * LZ4, pure code: the block format (Parquet's LZ4_RAW) and the frame format around it (Kafka's
 * lz4 codec: the Java client and librdkafka both write one standard LZ4 frame per record batch).
 *
 * Decoding accepts every frame the format allows — linked or independent blocks, 64 KB to 4 MB
 * blocks, content size, block and content checksums (verified when present), concatenated and
 * skippable frames — and throws on anything malformed rather than return short or padded bytes.
 * Encoding writes what the Java client writes: independent 64 KB blocks, no checksums, no content
 * size, and a compressor that keeps the format's end-of-block rules (the last match starts at
 * least 12 bytes before the end, the last 5 bytes are literals) that strict decoders enforce.
 * Hand-written because the pure-JS package on npm (lz4js 0.2.0) reads 64-bit content sizes with
 * 32-bit shifts, expects a block checksum before the block instead of after it, and can end a
 * block with a match closer to its end than the reference decoder accepts.
 */
import { xxh32 } from "./xxhash32.ts";

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65_535;
const HASH_LOG = 16;

const FRAME_MAGIC = 0x184d2204;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, then a 4-byte size. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
const UNCOMPRESSED_BIT = 0x80000000;
/** Independent 64 KB blocks, like the Java client's KafkaLZ4BlockOutputStream and librdkafka. */
const WRITE_FLG = 0x60;
const WRITE_BD = 4 << 4;

export class Lz4Error extends Error {
  override readonly name = "Lz4Error";
}

/** Largest output of compressBlock for an input of n bytes (the reference LZ4_compressBound). */
export function lz4BlockBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

const readU32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const writeU32 = (b: Uint8Array, i: number, value: number) => {
  b[i] = value & 0xff;
  b[i + 1] = (value >>> 8) & 0xff;
  b[i + 2] = (value >>> 16) & 0xff;
  b[i + 3] = (value >>> 24) & 0xff;
};
const hash = (sequence: number) => Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);

/** Writes a length's extension bytes (after a 15 in the token's nibble); returns the new position. */
function writeLength(out: Uint8Array, at: number, rest: number): number {
  let n = rest;
  while (n >= 255) {
    out[at++] = 255;
    n -= 255;
  }
  out[at++] = n;
  return at;
}

/**
 * Compresses src[start, end) as one LZ4 block into out at outAt (room: lz4BlockBound(end - start));
 * returns the position after it. Greedy single-probe hashing, as the reference's fast mode.
 */
export function compressBlockInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outAt: number, table = new Int32Array(1 << HASH_LOG)): number {
  table.fill(-1);
  let o = outAt;
  let anchor = start;
  const matchLimit = end - LAST_LITERALS;
  const lastMatchStart = end - MF_LIMIT;
  if (end - start > MF_LIMIT) {
    let ip = start;
    let misses = 1 << 6;
    while (ip <= lastMatchStart) {
      const sequence = readU32(src, ip);
      const slot = hash(sequence);
      let ref = table[slot]!;
      table[slot] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || readU32(src, ref) !== sequence) {
        ip += misses++ >> 6;
        continue;
      }
      misses = 1 << 6;
      let matchStart = ip;
      while (matchStart > anchor && ref > start && src[matchStart - 1] === src[ref - 1]) {
        matchStart--;
        ref--;
      }
      let matchEnd = ip + MIN_MATCH;
      let refEnd = ref + (matchEnd - matchStart);
      while (matchEnd < matchLimit && src[matchEnd] === src[refEnd]) {
        matchEnd++;
        refEnd++;
      }
      const literals = matchStart - anchor;
      const matchCode = matchEnd - matchStart - MIN_MATCH;
      const tokenAt = o++;
      out[tokenAt] = ((literals >= 15 ? 15 : literals) << 4) | (matchCode >= 15 ? 15 : matchCode);
      if (literals >= 15) o = writeLength(out, o, literals - 15);
      out.set(src.subarray(anchor, matchStart), o);
      o += literals;
      const offset = matchStart - ref;
      out[o++] = offset & 0xff;
      out[o++] = offset >>> 8;
      if (matchCode >= 15) o = writeLength(out, o, matchCode - 15);
      anchor = ip = matchEnd;
      // Index a position inside the match so the next one can chain off it.
      if (ip - 2 > start && ip - 2 <= lastMatchStart) table[hash(readU32(src, ip - 2))] = ip - 2;
    }
  }
  const literals = end - anchor;
  out[o++] = (literals >= 15 ? 15 : literals) << 4;
  if (literals >= 15) o = writeLength(out, o, literals - 15);
  out.set(src.subarray(anchor, end), o);
  return o + literals;
}

/** One LZ4 block of the whole input (Parquet LZ4_RAW pages). */
export function lz4CompressBlock(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4BlockBound(src.length));
  return out.slice(0, compressBlockInto(src, 0, src.length, out, 0));
}

/**
 * Decodes one block src[start, end) into out at outAt, writing at most outLimit; matches may
 * reach back to outFloor (the frame's start for linked blocks). Returns the position after it.
 */
function decompressBlockInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outAt: number, outLimit: number, outFloor: number): number {
  let ip = start;
  let o = outAt;
  const fail = (what: string): never => {
    throw new Lz4Error(`malformed LZ4 block: ${what} (input byte ${ip - start} of ${end - start})`);
  };
  while (true) {
    if (ip >= end) fail("ends without its last literals");
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (ip >= end) fail("literal length runs past the end");
        byte = src[ip++]!;
        literals += byte;
      } while (byte === 255);
    }
    if (ip + literals > end) fail("literals run past the end");
    if (o + literals > outLimit) fail("output larger than the block size");
    out.set(src.subarray(ip, ip + literals), o);
    ip += literals;
    o += literals;
    if (ip === end) return o;
    if (ip + 2 > end) fail("match offset cut short");
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || o - offset < outFloor) fail(`match offset ${offset} points before the data`);
    let length = token & 15;
    if (length === 15) {
      let byte: number;
      do {
        if (ip >= end) fail("match length runs past the end");
        byte = src[ip++]!;
        length += byte;
      } while (byte === 255);
    }
    length += MIN_MATCH;
    if (o + length > outLimit) fail("output larger than the block size");
    let from = o - offset;
    if (offset >= length) {
      out.copyWithin(o, from, from + length);
      o += length;
    } else {
      for (const stop = o + length; o < stop; ) out[o++] = out[from++]!;
    }
  }
}

/** Decodes a whole LZ4 block whose decoded size is known (Parquet pages say it). */
export function lz4DecompressBlock(src: Uint8Array, decodedSize: number): Uint8Array {
  const out = new Uint8Array(decodedSize);
  const written = decompressBlockInto(src, 0, src.length, out, 0, decodedSize, 0);
  if (written !== decodedSize) throw new Lz4Error(`LZ4 block decoded to ${written} bytes, expected ${decodedSize}`);
  return out;
}

/** LZ4 frame of src, as Kafka's lz4 codec carries a record batch's records. */
export function lz4CompressFrame(src: Uint8Array): Uint8Array {
  const blockSize = BLOCK_SIZES[WRITE_BD >> 4]!;
  const blocks = Math.max(1, Math.ceil(src.length / blockSize));
  const out = new Uint8Array(7 + blocks * (4 + lz4BlockBound(blockSize)) + 4);
  writeU32(out, 0, FRAME_MAGIC);
  out[4] = WRITE_FLG;
  out[5] = WRITE_BD;
  out[6] = (xxh32(out.subarray(4, 6)) >>> 8) & 0xff;
  let o = 7;
  const table = new Int32Array(1 << HASH_LOG);
  for (let at = 0; at < src.length; at += blockSize) {
    const stop = Math.min(at + blockSize, src.length);
    const size = compressBlockInto(src, at, stop, out, o + 4, table) - (o + 4);
    if (size >= stop - at) {
      // Incompressible: stored as is, flagged by the size's high bit.
      writeU32(out, o, (UNCOMPRESSED_BIT | (stop - at)) >>> 0);
      out.set(src.subarray(at, stop), o + 4);
      o += 4 + (stop - at);
    } else {
      writeU32(out, o, size);
      o += 4 + size;
    }
  }
  writeU32(out, o, 0);
  return out.slice(0, o + 4);
}

/** Decodes one or more LZ4 frames (skippable frames skipped) into the bytes they hold. */
export function lz4DecompressFrame(src: Uint8Array): Uint8Array {
  let out = new Uint8Array(Math.max(64, src.length * 4));
  let o = 0;
  const ensure = (room: number) => {
    if (o + room <= out.length) return;
    const grown = new Uint8Array(Math.max(out.length * 2, o + room));
    grown.set(out.subarray(0, o));
    out = grown;
  };
  let ip = 0;
  const need = (n: number, what: string) => {
    if (ip + n > src.length) throw new Lz4Error(`truncated LZ4 frame: ${what} at byte ${ip} of ${src.length}`);
  };
  while (ip < src.length) {
    need(4, "magic number");
    const magic = readU32(src, ip);
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) {
      need(8, "skippable frame size");
      ip += 8 + readU32(src, ip + 4);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new Lz4Error(`not an LZ4 frame: magic 0x${magic.toString(16)} at byte ${ip}`);
    const descriptorAt = ip + 4;
    need(7, "frame descriptor");
    const flg = src[descriptorAt]!;
    const bd = src[descriptorAt + 1]!;
    if (flg >>> 6 !== 1) throw new Lz4Error(`LZ4 frame version ${flg >>> 6} is not supported (only 1 exists)`);
    if (flg & 0x01) throw new Lz4Error("LZ4 frame needs a dictionary, which Kafka never uses");
    const independent = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const blockMax = BLOCK_SIZES[(bd >>> 4) & 7];
    if (blockMax === undefined) throw new Lz4Error(`LZ4 frame block size code ${(bd >>> 4) & 7} is not valid`);
    ip = descriptorAt + 2;
    let contentSize: number | undefined;
    if (hasContentSize) {
      need(9, "content size");
      contentSize = readU32(src, ip) + readU32(src, ip + 4) * 2 ** 32;
      ip += 8;
    }
    const expected = (xxh32(src.subarray(descriptorAt, ip)) >>> 8) & 0xff;
    if (src[ip] !== expected) throw new Lz4Error(`LZ4 frame descriptor checksum mismatch at byte ${ip}`);
    ip++;
    const frameStart = o;
    while (true) {
      need(4, "block size");
      const word = readU32(src, ip);
      ip += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
      if (size > blockMax + 4) throw new Lz4Error(`LZ4 block of ${size} bytes exceeds the frame's ${blockMax}-byte block size`);
      need(size + (blockChecksum ? 4 : 0), "block data");
      if (blockChecksum && xxh32(src.subarray(ip, ip + size)) !== readU32(src, ip + size)) {
        throw new Lz4Error(`LZ4 block checksum mismatch at byte ${ip}`);
      }
      ensure(blockMax);
      if (word & UNCOMPRESSED_BIT) {
        if (size > blockMax) throw new Lz4Error(`stored LZ4 block of ${size} bytes exceeds the block size`);
        out.set(src.subarray(ip, ip + size), o);
        o += size;
      } else {
        o = decompressBlockInto(src, ip, ip + size, out, o, o + blockMax, independent ? o : frameStart);
      }
      ip += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      need(4, "content checksum");
      if (xxh32(out.subarray(frameStart, o)) !== readU32(src, ip)) throw new Lz4Error("LZ4 content checksum mismatch");
      ip += 4;
    }
    if (contentSize !== undefined && o - frameStart !== contentSize) {
      throw new Lz4Error(`LZ4 frame decoded to ${o - frameStart} bytes but says it holds ${contentSize}`);
    }
  }
  return out.slice(0, o);
}
