/**
 * The in-place record batch decoder gives the very objects kafkajs' own Fetch v11 decoder gives,
 * over random responses (seeded): headers with repeated keys, null keys and values, control and
 * transactional batches, log-append-time batches, gzip and zstd batches (decompressed ahead, on
 * worker threads), several batches and partitions,
 * aborted transactions, a partial batch at the end of a fetch; and where the bytes are damaged it
 * yields, or fails with, what kafkajs does.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import Encoder from "kafkajs/src/protocol/encoder.js";
import compression from "kafkajs/src/protocol/message/compression/index.js";
import Record from "kafkajs/src/protocol/recordBatch/record/v0/index.js";
import { RecordBatch } from "kafkajs/src/protocol/recordBatch/v0/index.js";
import { installCodecs } from "../../../src/kafka/codecs.ts";
import { installFastEncoding } from "../../../src/kafka/fast-encoding.ts";
import { decodeFetchV11, originalFetchV11Decode } from "../../../src/kafka/fast-record-batch.ts";

installFastEncoding();
installCodecs();

const NOW = 1_764_000_123_456;
const CONTROL_FLAG = 0x20;
const LOG_APPEND_TIME_FLAG = 0x08;

interface BatchSpec {
  firstOffset: number;
  transactional: boolean;
  control: boolean;
  logAppendTime: boolean;
  codec: "none" | "gzip" | "zstd";
  producerId: number;
  messages: { key: Buffer | string | null; value: Buffer | string | null; headers?: Record<string, string | Buffer | (string | Buffer)[]>; delta: number }[];
}

async function encodeBatch(spec: BatchSpec): Promise<Buffer> {
  const records = spec.messages.map((m, i) => Record({ offsetDelta: i, timestampDelta: m.delta, key: m.key, value: m.value, headers: m.headers }));
  const batch = await RecordBatch({
    compression: { none: compression.Types.None, gzip: compression.Types.GZIP, zstd: compression.Types.ZSTD }[spec.codec],
    firstOffset: spec.firstOffset,
    firstTimestamp: NOW,
    maxTimestamp: NOW + 1000,
    transactional: spec.transactional,
    producerId: spec.producerId,
    producerEpoch: 3,
    firstSequence: 7,
    lastOffsetDelta: records.length - 1,
    records,
  });
  const bytes = Buffer.from(batch.buffer);
  // Attributes sit after FirstOffset, Length, PartitionLeaderEpoch, Magic and CRC (the CRC is not checked on fetch).
  const attributesAt = 8 + 4 + 4 + 1 + 4;
  let attributes = bytes.readInt16BE(attributesAt);
  if (spec.control) attributes |= CONTROL_FLAG;
  if (spec.logAppendTime) attributes |= LOG_APPEND_TIME_FLAG;
  bytes.writeInt16BE(attributes, attributesAt);
  return bytes;
}

function fetchResponse(partitions: { partition: number; records: Buffer; aborted: { producerId: number; firstOffset: number }[] }[]): Buffer {
  const encoder = new Encoder()
    .writeInt32(0)
    .writeInt16(0)
    .writeInt32(123)
    .writeInt32(1)
    .writeString("topic-é")
    .writeInt32(partitions.length);
  for (const p of partitions) {
    encoder.writeInt32(p.partition).writeInt16(0).writeInt64(1000).writeInt64(990).writeInt64(0).writeInt32(p.aborted.length);
    for (const a of p.aborted) encoder.writeInt64(a.producerId).writeInt64(a.firstOffset);
    encoder.writeInt32(-1).writeBytes(p.records);
  }
  return Buffer.from(encoder.buffer);
}

/**
 * The response with every record as a plain object of its fields: ours are FetchedRecords, whose
 * key and headers are read through getters, kafkajs' are plain objects.
 */
function plain(response: unknown): unknown {
  const { responses, ...rest } = response as { responses: { partitions: { messages: Record<string, unknown>[] }[] }[] };
  return {
    ...rest,
    responses: responses.map(({ partitions, ...topic }) => ({
      ...topic,
      partitions: partitions.map(({ messages, ...partition }) => ({
        ...partition,
        messages: messages.map((m) => ({ ...m, key: m.key, headers: m.headers })),
      })),
    })),
  };
}

async function outcome(decode: (raw: Buffer) => Promise<unknown>, raw: Buffer): Promise<unknown> {
  try {
    return { ok: plain(await decode(Buffer.from(raw))) };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const text = fc.string({ unit: fc.constantFrom("a", "0", " ", "é", "😀", "{", '"'), maxLength: 30 });
const bytes = fc.oneof(text, fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)));
const nullable = fc.oneof({ weight: 4, arbitrary: bytes }, { weight: 1, arbitrary: fc.constant(null) });
const headers = fc.option(fc.dictionary(fc.constantFrom("kstream-reason", "x", "1", "é", "null"), fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }), { nil: undefined });
const message = fc.record({ key: nullable, value: nullable, headers, delta: fc.integer({ min: -5000, max: 5_000_000 }) });
const batch = fc.record({
  firstOffset: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 45 })),
  transactional: fc.boolean(),
  control: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  logAppendTime: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  codec: fc.integer({ min: 0, max: 9 }).map((n): BatchSpec["codec"] => (n < 2 ? "gzip" : n < 5 ? "zstd" : "none")),
  producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 })),
  messages: fc.array(message, { minLength: 1, maxLength: 12 }),
});
const partition = fc.record({
  partition: fc.integer({ min: 0, max: 5 }),
  batches: fc.array(batch, { maxLength: 4 }),
  cut: fc.nat({ max: 60 }),
  aborted: fc.array(fc.record({ producerId: fc.integer({ min: 0, max: 2 ** 40 }), firstOffset: fc.nat({ max: 10_000 }) }), { maxLength: 2 }),
});

async function responseOf(partitions: { partition: number; batches: BatchSpec[]; cut: number; aborted: { producerId: number; firstOffset: number }[] }[]): Promise<Buffer> {
  const encoded = [];
  for (const p of partitions) {
    const records = Buffer.concat(await Promise.all(p.batches.map(encodeBatch)));
    // Cut the tail of some fetches: a broker may end a response inside the last batch.
    encoded.push({ partition: p.partition, aborted: p.aborted, records: p.cut < 20 && records.length > p.cut ? records.subarray(0, records.length - p.cut) : records });
  }
  return fetchResponse(encoded);
}

describe("in-place record batch decoding of Fetch v11", () => {
  test("gives kafkajs' objects for random responses", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partition, { minLength: 1, maxLength: 3 }), async (partitions) => {
        const raw = await responseOf(partitions);
        const theirs = plain(await originalFetchV11Decode(Buffer.from(raw)));
        const ours = plain(await decodeFetchV11(Buffer.from(raw)));
        expect(ours).toStrictEqual(theirs);
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  test("gives kafkajs' header keys when records repeat more distinct keys than are remembered, some of one length", async () => {
    const keys = fc.constantFrom("ab", "ba", "aa", "é", "e", "kstream-source-partition", "kstream-source-offset", "k1", "k2", "k3", "k4", "k5", "k6", "");
    const manyKeys = fc.record({ key: nullable, value: nullable, headers: fc.dictionary(keys, bytes, { maxKeys: 5 }), delta: fc.constant(0) });
    await fc.assert(
      fc.asyncProperty(fc.array(manyKeys, { minLength: 1, maxLength: 40 }), async (messages) => {
        const spec = { firstOffset: 0, transactional: false, control: false, logAppendTime: false, codec: "none" as const, producerId: -1, messages };
        const raw = await responseOf([{ partition: 0, batches: [spec], cut: 60, aborted: [] }]);
        const theirs = plain(await originalFetchV11Decode(Buffer.from(raw)));
        const ours = plain(await decodeFetchV11(Buffer.from(raw)));
        expect(ours).toStrictEqual(theirs);
      }),
      { seed: 17, numRuns: 200 },
    );
  });

  test("keys and values share the fetched bytes, as kafkajs' slices do", async () => {
    const raw = await responseOf([{ partition: 0, cut: 99, aborted: [], batches: [{ firstOffset: 5, transactional: false, control: false, logAppendTime: false, codec: "none" as const, producerId: -1, messages: [{ key: "k", value: "value", delta: 0 }] }] }]);
    const decoded = (await decodeFetchV11(raw)) as { responses: { partitions: { messages: { key: Buffer; value: Buffer; offset: string }[] }[] }[] };
    const record = decoded.responses[0]!.partitions[0]!.messages[0]!;
    expect(record.offset).toBe("5");
    expect(record.value.toString()).toBe("value");
    expect(record.value.buffer).toBe(raw.buffer);
  });

  test("a record's key and headers, first read after later fetches were decoded, are its own and the same on every read", async () => {
    const spec = (key: string, header: string) => ({ firstOffset: 0, transactional: false, control: false, logAppendTime: false, codec: "none" as const, producerId: -1, messages: [{ key, value: "v", headers: { h: header, g: [header, "2"] }, delta: 0 }] });
    type Decoded = { responses: { partitions: { messages: { key: Buffer; headers: Record<string, unknown> }[] }[] }[] };
    const first = (await decodeFetchV11(await responseOf([{ partition: 0, cut: 99, aborted: [], batches: [spec("k1", "one")] }]))) as Decoded;
    const second = (await decodeFetchV11(await responseOf([{ partition: 0, cut: 99, aborted: [], batches: [spec("k2", "two")] }]))) as Decoded;
    const record = first.responses[0]!.partitions[0]!.messages[0]!;
    expect(record.key.toString()).toBe("k1");
    expect(String(record.headers.h)).toBe("one");
    expect(record.headers).toBe(record.headers);
    expect(record.key).toBe(record.key);
    expect((record.headers.g as Buffer[]).map(String)).toEqual(["one", "2"]);
    expect(second.responses[0]!.partitions[0]!.messages[0]!.key.toString()).toBe("k2");
  });

  test("damaged bytes give what kafkajs gives: the same records or the same error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partition, { minLength: 1, maxLength: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), async (partitions, damage) => {
        const raw = await responseOf(partitions);
        for (const [at, byte] of damage) raw[at % raw.length] = byte;
        expect(await outcome(decodeFetchV11, raw)).toStrictEqual(await outcome(originalFetchV11Decode, raw));
      }),
      { seed: 15, numRuns: 400 },
    );
  });

  test("a compression codec registered later is found when the batch is read", async () => {
    const codecs = compression.Codecs as Record<number, unknown>;
    const saved = codecs[compression.Types.Snappy];
    const records = await encodeBatch({ firstOffset: 0, transactional: false, control: false, logAppendTime: false, codec: "gzip" as const, producerId: -1, messages: [{ key: null, value: "v", delta: 1 }] });
    // Relabel the gzip batch as snappy (attributes after FirstOffset, Length, epoch, magic, CRC) …
    records.writeInt16BE(compression.Types.Snappy, 8 + 4 + 4 + 1 + 4);
    const raw = fetchResponse([{ partition: 0, aborted: [], records }]);
    expect(await outcome(decodeFetchV11, raw)).toStrictEqual(await outcome(originalFetchV11Decode, raw));
    // … then register a "snappy" codec (gzip in disguise) after the decoder was installed.
    codecs[compression.Types.Snappy] = () => require("kafkajs/src/protocol/message/compression/gzip.js");
    try {
      const decoded = (await decodeFetchV11(Buffer.from(raw))) as { responses: { partitions: { messages: { value: Buffer }[] }[] }[] };
      expect(decoded.responses[0]!.partitions[0]!.messages[0]!.value.toString()).toBe("v");
      expect(plain(decoded)).toStrictEqual(plain(await originalFetchV11Decode(Buffer.from(raw))));
    } finally {
      codecs[compression.Types.Snappy] = saved;
    }
  });
});
