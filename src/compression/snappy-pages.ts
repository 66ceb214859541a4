/**
 * Snappy for Parquet pages: hyparquet-writer's own compressor (snappyjs' algorithm over the whole
 * page, one 14-bit hash table, offsets up to 65535) written straight into one output array sized
 * for the worst case, instead of a growing ByteWriter that checks and writes each byte through a
 * DataView. Same algorithm, same choices, so the same bytes: a page compressed here is identical
 * to one compressed by hyparquet-writer (pinned by a property test), and a file's bytes do not
 * change. Pure.
 */

const MAX_HASH_TABLE_BITS = 14;
const MAX_OFFSET = 0xffff;
const INPUT_MARGIN = 15;
const SHORT_LITERAL = 32;
const hashTables: Array<Uint32Array | undefined> = new Array(MAX_HASH_TABLE_BITS + 1);

/** The largest a compressed block can be (Snappy's MaxCompressedLength), plus the length varint. */
function maxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6) + 5;
}

const hash = (key: number, shift: number) => Math.imul(key, 0x1e35a7bd) >>> shift;
const load32 = (bytes: Uint8Array, at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);

/** Writes a literal of input[from, from + count) at out[op]; returns the next op. */
function emitLiteral(out: Uint8Array, op: number, input: Uint8Array, from: number, count: number): number {
  if (count <= 60) {
    out[op++] = (count - 1) << 2;
  } else {
    const value = count - 1;
    const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
    out[op++] = (59 + bytes) << 2;
    for (let index = 0; index < bytes; index++) out[op++] = (value >>> (index * 8)) & 0xff;
  }
  // Most literals between matches are a few bytes: a loop costs less than a view and a native copy.
  if (count <= SHORT_LITERAL) {
    for (let index = 0; index < count; index++) out[op + index] = input[from + index]!;
  } else {
    out.set(input.subarray(from, from + count), op);
  }
  return op + count;
}

/** Writes one copy of up to 64 bytes from `offset` back; returns the next op. */
function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, count: number): number {
  if (count < 12 && offset < 2048) {
    out[op] = (1 + ((count - 4) << 2) + ((offset >>> 8) << 5)) & 0xff;
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = (2 + ((count - 1) << 2)) & 0xff;
  out[op + 1] = offset & 0xff;
  out[op + 2] = (offset >>> 8) & 0xff;
  return op + 3;
}

/** Writes a copy of `count` bytes from `offset` back, as copies of up to 64; returns the next op. */
function emitCopy(out: Uint8Array, op: number, offset: number, count: number): number {
  while (count >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    count -= 64;
  }
  if (count > 64) {
    op = emitCopyUpTo64(out, op, offset, 60);
    count -= 60;
  }
  return emitCopyUpTo64(out, op, offset, count);
}

/**
 * The page compressed. The emitters are plain functions that take and return the output position:
 * as closures over `op` they made it a captured variable, read and written through the closure's
 * scope on every byte, which was most of the compressor's time.
 */
export function snappyCompressPage(input: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(maxCompressedLength(input.length));
  let op = 0;
  // The uncompressed length, as a varint.
  let length = input.length;
  while (length > 0x7f) {
    out[op++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  out[op++] = length;

  const inputSize = input.length;
  let bits = 1;
  while (1 << bits <= inputSize && bits <= MAX_HASH_TABLE_BITS) bits++;
  bits--;
  const shift = 32 - bits;
  const table = (hashTables[bits] ??= new Uint32Array(1 << bits));
  table.fill(0);

  let nextEmit = 0;
  if (inputSize >= INPUT_MARGIN) {
    const ipLimit = inputSize - INPUT_MARGIN;
    let ip = 1;
    let nextHash = hash(load32(input, ip), shift);
    outer: for (;;) {
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const current = nextHash;
        const step = skip >>> 5;
        skip++;
        nextIp = ip + step;
        if (ip > ipLimit) break outer;
        nextHash = hash(load32(input, nextIp), shift);
        candidate = table[current]!;
        table[current] = ip;
      } while (ip - candidate > MAX_OFFSET || load32(input, ip) !== load32(input, candidate));

      op = emitLiteral(out, op, input, nextEmit, ip - nextEmit);
      do {
        const base = ip;
        let matched = 4;
        while (ip + matched < inputSize && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        op = emitCopy(out, op, base - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) break outer;
        table[hash(load32(input, ip - 1), shift)] = ip - 1;
        const current = hash(load32(input, ip), shift);
        candidate = table[current]!;
        table[current] = ip;
      } while (ip - candidate <= MAX_OFFSET && load32(input, ip) === load32(input, candidate));
      ip++;
      nextHash = hash(load32(input, ip), shift);
    }
  }
  if (nextEmit < inputSize) op = emitLiteral(out, op, input, nextEmit, inputSize - nextEmit);
  return out.subarray(0, op);
}
