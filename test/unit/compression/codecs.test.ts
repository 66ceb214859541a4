/**
 * LZ4, xxHash32 and Snappy against data other implementations wrote: the Java client's own
 * Lz4BlockOutputStream and snappy-java's SnappyOutputStream (fixtures made with Kafka's jars),
 * the lz4 command line tool (linked blocks, block and content checksums, content size), and the
 * reference xxHash32 test vectors; plus seeded round trips of inputs with every shape of run.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { Lz4Error, lz4CompressBlock, lz4CompressFrame, lz4DecompressBlock, lz4DecompressFrame } from "../../../src/compression/lz4.ts";
import { isXerialFramed, snappyCompressRaw, snappyCompressXerial, snappyDecompress } from "../../../src/compression/snappy.ts";
import { xxh32 } from "../../../src/compression/xxhash32.ts";
import { installCodecs } from "../../../src/kafka/codecs.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dir, "../../fixtures/compression", name)));
const text = (value: string) => new TextEncoder().encode(value);

/** The input the fixtures were made from: 1500 NDJSON lines, as the shell loop that made them printed them. */
const FIXTURE_INPUT = text(
  Array.from({ length: 1500 }, (_, n) => `{"id":${n + 1},"first_name":"Name${(n + 1) % 97}","country":"Côte d'Ivoire","email":"u${n + 1}@example.com"}\n`).join(""),
);

/** Inputs with long runs, short repeats, random bytes and block-boundary sizes. */
const inputs = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(fc.constantFrom(...["ab", "abcabc", "{\"id\":", "x", "\u00e9", "0123456789"]), { maxLength: 5000 }).map((parts) => text(parts.join(""))),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 200_000 })).map(([byte, n]) => new Uint8Array(n).fill(byte)),
);

describe("xxHash32", () => {
  test("gives the reference test vectors", () => {
    expect(xxh32(new Uint8Array())).toBe(0x02cc5d05);
    expect(xxh32(text("abc"))).toBe(0x32d153ff);
    expect(xxh32(text("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
  });
});

describe("LZ4", () => {
  test("reads the frame the Java client's Lz4BlockOutputStream writes", () => {
    expect(lz4DecompressFrame(fixture("records.java.lz4"))).toEqual(FIXTURE_INPUT);
  });

  test("reads a frame of linked 64 KB blocks with content size, block and content checksums (lz4 -B4 -BD -BX --content-size)", () => {
    expect(lz4DecompressFrame(fixture("records.linked-checksums.lz4"))).toEqual(FIXTURE_INPUT);
  });

  test("refuses a frame whose content checksum does not match instead of returning wrong bytes", () => {
    const corrupt = fixture("records.linked-checksums.lz4");
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(() => lz4DecompressFrame(corrupt)).toThrow(Lz4Error);
  });

  test("refuses a truncated frame", () => {
    const frame = lz4CompressFrame(FIXTURE_INPUT);
    expect(() => lz4DecompressFrame(frame.subarray(0, frame.length - 10))).toThrow(Lz4Error);
  });

  test("writes independent 64 KB blocks without checksums, the descriptor the Java client writes", () => {
    const ours = lz4CompressFrame(FIXTURE_INPUT);
    expect([...ours.subarray(0, 7)]).toEqual([...fixture("records.java.lz4").subarray(0, 7)]);
    expect(ours.length).toBeLessThan(FIXTURE_INPUT.length / 4);
  });

  test("frames and blocks round-trip any input (seeded)", () => {
    fc.assert(
      fc.property(inputs, (input) => {
        expect(lz4DecompressFrame(lz4CompressFrame(input))).toEqual(input);
        expect(lz4DecompressBlock(lz4CompressBlock(input), input.length)).toEqual(input);
      }),
      { seed: 1207, numRuns: 300 },
    );
  });

  test("every block keeps the format's end rules: its last 5 bytes are literals and its last match starts 12 or more bytes before the end", () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const ends = matchEnds(lz4CompressBlock(input));
        for (const { start, end } of ends) {
          expect(end).toBeLessThanOrEqual(input.length - 5);
          expect(start).toBeLessThanOrEqual(input.length - 12);
        }
      }),
      { seed: 1208, numRuns: 300 },
    );
  });
});

describe("Snappy", () => {
  test("reads the xerial framing snappy-java (the Java client) writes", () => {
    const framed = fixture("records.xerial.snappy");
    expect(isXerialFramed(framed)).toBe(true);
    expect(snappyDecompress(framed)).toEqual(FIXTURE_INPUT);
  });

  test("reads a raw block, the form librdkafka writes", () => {
    expect(snappyDecompress(snappyCompressRaw(FIXTURE_INPUT))).toEqual(FIXTURE_INPUT);
  });

  test("writes the xerial header snappy-java writes, in 32 KB chunks", () => {
    const ours = snappyCompressXerial(FIXTURE_INPUT);
    const theirs = fixture("records.xerial.snappy");
    expect([...ours.subarray(0, 16)]).toEqual([...theirs.subarray(0, 16)]);
    expect(snappyDecompress(ours)).toEqual(FIXTURE_INPUT);
  });

  test("xerial frames round-trip any input (seeded)", () => {
    fc.assert(fc.property(inputs, (input) => expect(snappyDecompress(snappyCompressXerial(input))).toEqual(input)), { seed: 1209, numRuns: 200 });
  });
});

describe("installCodecs", () => {
  // kafkajs itself throws "Snappy compression not implemented" (and the same for lz4 and zstd).
  test("makes kafkajs encode and decode gzip, snappy, lz4 and zstd batches, the Java client's forms included", async () => {
    const lookup = (type: CompressionTypes) => (CompressionCodecs as Record<number, () => { decompress(b: Buffer): Promise<Buffer>; compress(e: { buffer: Buffer }): Promise<Buffer> }>)[type]!;
    installCodecs();
    installCodecs();
    const payload = Buffer.from(FIXTURE_INPUT);
    for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = lookup(type)();
      const compressed = await codec.compress({ buffer: payload });
      expect(compressed.length).toBeLessThan(payload.length / 3);
      expect(Buffer.compare(await codec.decompress(compressed), payload)).toBe(0);
    }
    expect(Buffer.compare(await lookup(CompressionTypes.Snappy)().decompress(Buffer.from(fixture("records.xerial.snappy"))), payload)).toBe(0);
    expect(Buffer.compare(await lookup(CompressionTypes.LZ4)().decompress(Buffer.from(fixture("records.java.lz4"))), payload)).toBe(0);
  });
});

describe("zstd", () => {
  test("the producer's zstd codec writes the bytes of libzstd's level 3, off the JavaScript thread or not (seeded)", async () => {
    installCodecs();
    const zstd = (CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer> }>)[CompressionTypes.ZSTD]!();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), fc.nat({ max: 40 }), async (noise, repeats) => {
        const payload = Buffer.concat([Buffer.from(noise), ...Array.from({ length: repeats }, () => Buffer.from(FIXTURE_INPUT))]);
        const compressed = await zstd.compress({ buffer: payload });
        expect(Buffer.compare(compressed, Buffer.from(Bun.zstdCompressSync(payload, { level: 3 })))).toBe(0);
      }),
      { seed: 21, numRuns: 60 },
    );
  });
});

/** Where each match of an LZ4 block starts and ends in the decoded bytes (an independent parse of the block format). */
function matchEnds(block: Uint8Array): Array<{ start: number; end: number }> {
  const matches: Array<{ start: number; end: number }> = [];
  let ip = 0;
  let out = 0;
  const length = (initial: number) => {
    let n = initial;
    if (n === 15) {
      let byte: number;
      do {
        byte = block[ip++]!;
        n += byte;
      } while (byte === 255);
    }
    return n;
  };
  while (ip < block.length) {
    const token = block[ip++]!;
    const literals = length(token >> 4);
    ip += literals;
    out += literals;
    if (ip >= block.length) break;
    ip += 2;
    const matchLength = length(token & 15) + 4;
    matches.push({ start: out, end: out + matchLength });
    out += matchLength;
  }
  return matches;
}
