/**
 * A faster body for kafkajs' Produce request, versions 3 to 7 (one RecordBatch v2 per partition;
 * v5–v7 only renumber v3), installed once from patches.ts. kafkajs builds every record in an
 * Encoder of its own (a zeroed 512-byte Buffer each, one more per header), copies each into the
 * batch, the batch into the partition and the partition into the topic, and computes the CRC over
 * one more copy; in profiles of stream-clean that was about a quarter of all CPU time. This lays
 * the whole request out in one Buffer, sized exactly in a first pass, writes each record straight
 * into it and takes the CRC-32C over the batch in place.
 *
 * Guarantee: the same bytes as kafkajs' own encoder (pinned by test/unit/kafka/fast-produce-request.test.ts
 * against it, over random inputs), including kafkajs' quirks: batch timestamps taken from the
 * messages' timestamps sorted as strings, a message without one stamped with the partition's
 * Date.now(). Anything outside the shapes kstream sends — keys, values and header values that are
 * not strings or Buffers, timestamps that are not safe integers, headers that are not an object —
 * is encoded by kafkajs' original, so it behaves (and fails) exactly as before.
 */
// kafkajs' internals have no types; the shapes used here are declared in kafkajs-internals.d.ts.
import Encoder from "kafkajs/src/protocol/encoder.js";
import compression from "kafkajs/src/protocol/message/compression/index.js";
import { crc32c } from "./crc32c.ts";
import produceRequests from "kafkajs/src/protocol/requests/produce/index.js";
import Long from "kafkajs/src/utils/long.js";

/** The Produce versions whose request body this encodes (kafkajs 2.2.4: v3 body, v5–v7 wrap it). */
const FAST_VERSIONS = new Set([3, 4, 5, 6, 7]);
const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
/** Batch bytes after the length field up to the record count: epoch, magic, CRC, attributes … firstSequence. */
const BATCH_HEADER = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4;
/** Where the CRC-covered part starts, counted from the batch's PartitionLeaderEpoch. */
const CRC_START = 4 + 1 + 4;
/** Byte strings up to this long are copied by a loop. */
const SHORT_COPY = 48;
/** Text up to this long is measured and written by a loop: cheaper than the native call. */
const SHORT_TEXT = 24;
/** |timestamp delta| below this keeps its zigzag exact in a double. */
const FAST_LIMIT = 2 ** 52;

interface MessageLike {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: unknown;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: MessageLike[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  topicData: TopicData[];
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
}
interface ProduceRequest {
  request: { encode: () => Promise<Encoder> };
}
type ProtocolFactory = (args: ProduceArgs) => ProduceRequest;

/** Buffer's latin1 writer (Bun and Node have it, @types/node does not): no encoding lookup per call. */
type LatinBuffer = Buffer & { latin1Write(text: string, offset: number, length: number): number };

/** A field kafkajs takes as Buffer or string, measured once. */
type Bytes = Buffer | string | null;

/** One partition's records, measured in the first pass. */
interface PlannedPartition {
  partition: number;
  firstSequence: number | undefined;
  messages: MessageLike[];
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  deltas: Float64Array;
  bodySizes: Int32Array;
  /** UTF-8 bytes of each key and value (-1: null), measured once for both passes. */
  keySizes: Int32Array;
  valueSizes: Int32Array;
  headers: (HeaderPair[] | undefined)[];
  recordsBytes: number;
  /** Set for compressed batches: the codec's output for the records. */
  compressed?: Buffer;
  batchBytes: number;
}
interface HeaderPair {
  key: string;
  value: Buffer | string;
  keySize: number;
  valueSize: number;
}

const original = { protocol: produceRequests.protocol };
export const originalProduceProtocol = original.protocol;

let installed = false;

export function installFastProduceRequest(): void {
  if (installed) return;
  installed = true;
  produceRequests.protocol = ({ version }: { version: number | string }) => {
    const make = original.protocol({ version }) as ProtocolFactory | undefined;
    if (typeof make !== "function" || !FAST_VERSIONS.has(Number(version))) return make;
    return (args: ProduceArgs) => {
      const built = make(args);
      const originalEncode = built.request.encode;
      built.request.encode = () => encodeProduceRequest(args, originalEncode);
      return built;
    };
  };
}

/** The Produce v3 request body of `args`, as kafkajs' v3 request.js encodes it. */
export async function encodeProduceRequest(args: ProduceArgs, fallback: () => Promise<Encoder>): Promise<Encoder> {
  const {
    acks,
    timeout,
    transactionalId = null,
    producerId = Long.fromInt(-1),
    producerEpoch = 0,
    compression: compressionType = compression.Types.None,
    topicData,
  } = args;
  if (!Array.isArray(topicData) || typeof producerEpoch !== "number") return fallback();
  const codec = codecOf(compressionType);
  if (codec === undefined) return fallback();

  // First pass: measure every record; anything unusual goes to kafkajs' original.
  const plans: PlannedPartition[][] = [];
  let total = stringSize(transactionalId) + 2 + 4 + 4;
  for (const data of topicData) {
    if (typeof data?.topic !== "string" || !Array.isArray(data.partitions)) return fallback();
    const topicPlans: PlannedPartition[] = [];
    total += stringSize(data.topic) + 4;
    for (const partitionData of data.partitions) {
      const ahead = preparedFor(partitionData, compressionType);
      const plan = ahead ? { ...(await ahead), partition: partitionData.partition, firstSequence: partitionData.firstSequence } : planPartition(partitionData);
      if (!plan) return fallback();
      topicPlans.push(plan);
    }
    plans.push(topicPlans);
  }
  // Compressed batches: the records are encoded, then handed to the codec kafkajs would use. All
  // partitions' batches are compressed at once: an asynchronous codec (zstd) runs them side by side.
  const compressing: Promise<void>[] = [];
  for (const topicPlans of plans) {
    for (const plan of topicPlans) {
      if (plan.batchBytes > 0) continue; // prepared ahead
      if (codec) compressing.push(compressRecords(plan, codec));
      else plan.batchBytes = BATCH_HEADER + 4 + plan.recordsBytes;
    }
  }
  await Promise.all(compressing);
  // partition, record set size, FirstOffset, Length, then the batch.
  for (const topicPlans of plans) for (const plan of topicPlans) total += 4 + 4 + 8 + 4 + plan.batchBytes;

  // Second pass: write it all into one Buffer.
  const buf = Buffer.allocUnsafe(total);
  let offset = writeString(buf, 0, transactionalId);
  offset = buf.writeInt16BE(acks, offset);
  offset = buf.writeInt32BE(timeout, offset);
  offset = buf.writeInt32BE(topicData.length, offset);
  const attributes = (compressionType & compression.COMPRESSION_CODEC_MASK) | (transactionalId ? TRANSACTIONAL_MASK : 0);
  for (let t = 0; t < topicData.length; t++) {
    const topicPlans = plans[t]!;
    offset = writeString(buf, offset, topicData[t]!.topic);
    offset = buf.writeInt32BE(topicPlans.length, offset);
    for (const plan of topicPlans) {
      offset = buf.writeInt32BE(plan.partition, offset);
      offset = buf.writeInt32BE(8 + 4 + plan.batchBytes, offset);
      offset = writeInt64(buf, offset, 0);
      offset = buf.writeInt32BE(plan.batchBytes, offset);
      const batchStart = offset;
      offset = buf.writeInt32BE(0, offset); // PartitionLeaderEpoch
      offset = buf.writeInt8(MAGIC_BYTE, offset);
      const crcAt = offset;
      offset += 4;
      offset = buf.writeInt16BE(attributes, offset);
      offset = buf.writeInt32BE(plan.messages.length - 1, offset);
      offset = writeInt64(buf, offset, plan.firstTimestamp);
      offset = writeInt64(buf, offset, plan.maxTimestamp);
      offset = writeInt64(buf, offset, producerId);
      offset = buf.writeInt16BE(producerEpoch, offset);
      offset = buf.writeInt32BE(plan.firstSequence === undefined ? 0 : plan.firstSequence, offset);
      offset = buf.writeInt32BE(plan.messages.length, offset);
      if (plan.compressed) {
        plan.compressed.copy(buf, offset);
        offset += plan.compressed.length;
      } else {
        offset = writeRecords(buf, offset, plan);
      }
      buf.writeUInt32BE(crc32c(buf.subarray(batchStart + CRC_START, offset)), crcAt);
    }
  }
  const encoder = new Encoder(0);
  encoder.buf = buf;
  encoder.offset = offset;
  return encoder;
}

/**
 * One partition's records measured, encoded and compressed before their request is made: the
 * produce job prepares its next request while the one before is in flight, so the codec (zstd on
 * Bun's worker threads) and the measuring are off the request's path. Keyed by the partition's
 * first message, and used only for a partition of as many messages ending with the same one, in a
 * request of the same compression; the messages must not change after they are prepared. A
 * message without a timestamp is stamped when it is prepared instead of when its request is made.
 */
interface PreparedRecords {
  readonly count: number;
  readonly last: MessageLike;
  readonly compression: number;
  readonly ready: Promise<PlannedPartition>;
}

const prepared = new WeakMap<MessageLike, PreparedRecords>();

/** Prepares one partition's messages, in the order its request will hold them, for a request of `compressionType`. */
export function prepareRecords(messages: MessageLike[], compressionType: number = compression.Types.None): void {
  const first = messages[0];
  if (first == null || typeof first !== "object") return;
  const plan = planPartition({ partition: -1, messages });
  const codec = codecOf(compressionType);
  if (!plan || codec === undefined) return;
  let ready: Promise<PlannedPartition>;
  if (codec) {
    ready = compressRecords(plan, codec).then(() => plan);
    // A codec's failure is the request's: it surfaces when the request is encoded.
    ready.catch(() => undefined);
  } else {
    plan.batchBytes = BATCH_HEADER + 4 + plan.recordsBytes;
    ready = Promise.resolve(plan);
  }
  prepared.set(first, { count: messages.length, last: messages[messages.length - 1]!, compression: compressionType, ready });
}

function preparedFor(data: PartitionData, compressionType: number): Promise<PlannedPartition> | undefined {
  const messages = data?.messages;
  if (!Array.isArray(messages) || messages.length === 0 || typeof data.partition !== "number") return undefined;
  if (data.firstSequence !== undefined && typeof data.firstSequence !== "number") return undefined;
  const entry = prepared.get(messages[0]!);
  if (!entry || entry.count !== messages.length || entry.last !== messages[messages.length - 1] || entry.compression !== compressionType) return undefined;
  return entry.ready;
}

type Codec = NonNullable<ReturnType<typeof compression.lookupCodec>>;

/** The codec kafkajs would use for a compression type: null for none, undefined for one it lacks. */
function codecOf(compressionType: number): Codec | null | undefined {
  return compressionType === compression.Types.None ? null : (compression.lookupCodec(compressionType) ?? undefined);
}

async function compressRecords(plan: PlannedPartition, codec: Codec): Promise<void> {
  const records = Buffer.allocUnsafe(plan.recordsBytes);
  writeRecords(records, 0, plan);
  const recordsEncoder = new Encoder(0);
  recordsEncoder.buf = records;
  recordsEncoder.offset = records.length;
  const compressed = await codec.compress(recordsEncoder);
  if (!Buffer.isBuffer(compressed)) throw new Error("value should be an instance of Buffer");
  plan.compressed = compressed;
  plan.batchBytes = BATCH_HEADER + 4 + compressed.length;
}

/** Measures one partition's batch the way kafkajs' partitionsEncoder and Record would, or undefined to fall back. */
function planPartition(data: PartitionData): PlannedPartition | undefined {
  if (data == null || !Array.isArray(data.messages)) return undefined;
  const { partition, firstSequence, messages } = data;
  if (typeof partition !== "number" || (firstSequence !== undefined && typeof firstSequence !== "number")) return undefined;
  const dateNow = Date.now();
  const count = messages.length;
  const { first, max } = timestampRange(messages, dateNow);
  if (first === undefined) return undefined;
  const deltas = new Float64Array(count);
  const bodySizes = new Int32Array(count);
  const keySizes = new Int32Array(count);
  const valueSizes = new Int32Array(count);
  const headers: (HeaderPair[] | undefined)[] = new Array(count);
  let recordsBytes = 0;
  // Messages of one run share one headers object: flattened and measured once per batch.
  let lastHeaders: object | undefined;
  let lastPairs: HeaderPair[] = [];
  let lastHeadersSize = 0;
  for (let i = 0; i < count; i++) {
    const message = messages[i]!;
    if (message == null || typeof message !== "object") return undefined;
    const delta = ((message.timestamp || dateNow) as number) - (first as number);
    if (!Number.isInteger(delta) || Math.abs(delta) >= FAST_LIMIT) return undefined;
    deltas[i] = delta;
    const key = message.key;
    const value = message.value;
    if (!isBytes(key) || !isBytes(value)) return undefined;
    const keySize = key == null ? -1 : byteLength(key);
    const valueSize = value == null ? -1 : byteLength(value);
    keySizes[i] = keySize;
    valueSizes[i] = valueSize;
    let size = 1 + sizeOfVarLong(delta) + sizeOfVarInt(i) + sizeOfSized(keySize) + sizeOfSized(valueSize);
    const rawHeaders = message.headers === undefined ? {} : message.headers;
    if (rawHeaders === null || typeof rawHeaders !== "object") return undefined;
    // Messages of one run share one object (flattened once); stream-clean's differ per record.
    if (rawHeaders !== lastHeaders) {
      const pairs = headerPairs(rawHeaders as Record<string, unknown>);
      if (!pairs) return undefined;
      lastHeaders = rawHeaders;
      lastPairs = pairs;
      lastHeadersSize = headersSize(pairs);
    }
    size += lastHeadersSize;
    headers[i] = lastPairs.length === 0 ? undefined : lastPairs;
    bodySizes[i] = size;
    recordsBytes += sizeOfVarInt(size) + size;
  }
  return { partition, firstSequence, messages, firstTimestamp: first, maxTimestamp: max, deltas, bodySizes, keySizes, valueSizes, headers, recordsBytes, batchBytes: 0 };
}

/**
 * kafkajs sorts the messages' timestamps with the default (string) sort and takes the first and
 * the last; when all are integers of one length that is the numeric minimum and maximum, found
 * in one pass. Returns first undefined when the timestamps are of a kind this does not encode.
 */
function timestampRange(messages: MessageLike[], dateNow: number): { first: unknown; max: unknown } {
  let min: unknown;
  let max: unknown;
  let minValue = 0;
  let maxValue = 0;
  let digits = -1;
  let sameLength = true;
  for (const message of messages) {
    const timestamp = message?.timestamp;
    if (timestamp == null) continue;
    const value = typeof timestamp === "number" ? timestamp : typeof timestamp === "string" && /^\d+$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 0) return { first: undefined, max: undefined };
    const length = typeof timestamp === "string" ? timestamp.length : String(value).length;
    if (digits === -1) digits = length;
    else if (length !== digits) sameLength = false;
    if (min === undefined || value < minValue) {
      min = timestamp;
      minValue = value;
    }
    if (max === undefined || value >= maxValue) {
      max = timestamp;
      maxValue = value;
    }
  }
  if (min === undefined) return { first: dateNow, max: dateNow };
  if (sameLength && !messages.some((m) => typeof m?.timestamp === "string" && m.timestamp.length !== String(Number(m.timestamp)).length)) {
    return { first: min, max };
  }
  const sorted = messages.map((m) => m.timestamp).filter((timestamp) => timestamp != null).sort();
  return { first: sorted[0], max: sorted[sorted.length - 1] };
}

/** kafkajs' Record flattening of headers: one pair per value, arrays spread, in key order. */
function headerPairs(headers: Record<string, unknown>): HeaderPair[] | undefined {
  const pairs: HeaderPair[] = [];
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item !== "string" && !Buffer.isBuffer(item)) return undefined;
        pairs.push({ key, value: item, keySize: byteLength(key), valueSize: byteLength(item) });
      }
    } else {
      if (typeof value !== "string" && !Buffer.isBuffer(value)) return undefined;
      pairs.push({ key, value, keySize: byteLength(key), valueSize: byteLength(value) });
    }
  }
  return pairs;
}

function headersSize(pairs: HeaderPair[]): number {
  let size = sizeOfVarInt(pairs.length);
  for (const pair of pairs) size += sizeOfSized(pair.keySize) + sizeOfSized(pair.valueSize);
  return size;
}

function writeRecords(buf: Buffer, start: number, plan: PlannedPartition): number {
  let offset = start;
  const { messages, deltas, bodySizes, keySizes, valueSizes, headers } = plan;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    offset = writeVarInt(buf, offset, bodySizes[i]!);
    buf[offset++] = 0; // record attributes: none used
    offset = writeVarLong(buf, offset, deltas[i]!);
    offset = writeVarInt(buf, offset, i);
    offset = writeSized(buf, offset, message.key as Bytes, keySizes[i]!);
    offset = writeSized(buf, offset, message.value as Bytes, valueSizes[i]!);
    const pairs = headers[i];
    if (!pairs) {
      buf[offset++] = 0; // zero headers
      continue;
    }
    offset = writeVarInt(buf, offset, pairs.length);
    for (const pair of pairs) {
      offset = writeSized(buf, offset, pair.key, pair.keySize);
      offset = writeSized(buf, offset, pair.value, pair.valueSize);
    }
  }
  return offset;
}

function isBytes(value: unknown): value is Bytes | undefined {
  return value == null || typeof value === "string" || Buffer.isBuffer(value);
}

/** UTF-8 bytes of a key, value or header: short ASCII text counted here, the rest natively. */
function byteLength(value: Buffer | string): number {
  if (typeof value !== "string") return value.length;
  const length = value.length;
  if (length > SHORT_TEXT) return Buffer.byteLength(value, "utf8");
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, "utf8");
  return length;
}

function sizeOfVarInt(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zigzag > 0x7f) {
    bytes++;
    zigzag >>>= 7;
  }
  return bytes;
}

function sizeOfVarLong(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (zigzag > 0x7f) {
    bytes++;
    zigzag = Math.floor(zigzag / 128);
  }
  return bytes;
}

/** A length-prefixed field of `size` bytes (-1: null, the prefix alone). */
function sizeOfSized(size: number): number {
  return size < 0 ? 1 : sizeOfVarInt(size) + size;
}

function stringSize(value: string | null): number {
  return 2 + (value == null ? 0 : Buffer.byteLength(value, "utf8"));
}

function writeVarInt(buf: Buffer, start: number, value: number): number {
  let offset = start;
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v > 0x7f) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  return offset;
}

function writeVarLong(buf: Buffer, start: number, value: number): number {
  let offset = start;
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  while (zigzag > 0x7f) {
    buf[offset++] = (zigzag % 128) | 0x80;
    zigzag = Math.floor(zigzag / 128);
  }
  buf[offset++] = zigzag;
  return offset;
}

/**
 * A length-prefixed field whose UTF-8 size was measured in the first pass. Text whose size equals
 * its length is ASCII: its bytes are its char codes, written by a loop when short and as latin1
 * (no UTF-8 encoder) when long.
 */
function writeSized(buf: Buffer, start: number, value: Bytes | undefined, size: number): number {
  if (value == null) {
    buf[start] = 1; // zigzag(-1)
    return start + 1;
  }
  const offset = writeVarInt(buf, start, size);
  if (typeof value === "string") {
    if (size !== value.length) return offset + buf.write(value, offset, size, "utf8");
    if (size <= SHORT_TEXT) {
      for (let i = 0; i < size; i++) buf[offset + i] = value.charCodeAt(i);
      return offset + size;
    }
    return offset + (buf as LatinBuffer).latin1Write(value, offset, size);
  }
  // A key or header of a few bytes: a loop costs less than the native copy's call.
  if (value.length <= SHORT_COPY) {
    for (let i = 0; i < value.length; i++) buf[offset + i] = value[i]!;
  } else {
    value.copy(buf, offset);
  }
  return offset + value.length;
}

function writeString(buf: Buffer, start: number, value: string | null): number {
  if (value == null) return buf.writeInt16BE(-1, start);
  const size = Buffer.byteLength(value, "utf8");
  const offset = buf.writeInt16BE(size, start);
  return offset + buf.write(value, offset, size, "utf8");
}

/** kafkajs' writeInt64: any value Long.fromValue takes (number, string, Long). */
function writeInt64(buf: Buffer, start: number, value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    const high = Math.floor(value / 2 ** 32);
    buf.writeInt32BE(high, start);
    buf.writeUInt32BE(value - high * 2 ** 32, start + 4);
    return start + 8;
  }
  const long = Long.fromValue(value);
  buf.writeInt32BE(long.getHighBits(), start);
  buf.writeInt32BE(long.getLowBits(), start + 4);
  return start + 8;
}
