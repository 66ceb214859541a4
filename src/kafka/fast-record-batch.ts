/**
 * A faster decoder for the record batches (magic v2) of kafkajs' Fetch v11 responses, installed
 * once from patches.ts as the response's `decode`. kafkajs decodes each record through a Decoder
 * object of its own, BigInt Longs for its offset and timestamp, and a spread-per-header reduce;
 * this reads the batch in place with plain numbers.
 *
 * Guarantee: the same objects as kafkajs' decoder (pinned by test/unit/kafka/fast-record-batch.test.ts
 * against it): offsets and timestamps as decimal strings, keys and values as Buffers sharing the
 * fetched (or decompressed) bytes, headers folded into an object the way kafkajs folds them (the
 * key and headers decoded when first read: FetchedRecord), one
 * batchContext per batch, isControlRecord from the batch attributes; and the same response shape
 * around them (aborted transactions, watermarks), so kafkajs' own consumer still filters control
 * records and aborted transactions. Like kafkajs it does not check the batch CRC, stops at a
 * partial batch at the end of the fetch, and decompresses through whatever codec is registered in
 * kafkajs' CompressionCodecs for the batch's compression when the batch is read. A batch this
 * decoder does not expect — a message set of magic 0 or 1, a record that overruns its batch, a
 * 64-bit value beyond 2^52 — is decoded by kafkajs' original code from the same position, so it
 * yields (or fails with) exactly what kafkajs would.
 */
// kafkajs' internals have no types; the shapes used here are declared in kafkajs-internals.d.ts.
import Decoder from "kafkajs/src/protocol/decoder.js";
import compression from "kafkajs/src/protocol/message/compression/index.js";
import MessageSetDecoder from "kafkajs/src/protocol/messageSet/decoder.js";
import RecordBatchDecoder from "kafkajs/src/protocol/recordBatch/v0/decoder.js";
import fetchV11Response from "kafkajs/src/protocol/requests/fetch/v11/response.js";
import TimestampTypes from "kafkajs/src/protocol/timestampTypes.js";

const MAGIC_BYTE = 2;
// kafkajs' decodeMessages: the magic byte's place, and the least a batch can take.
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** A 64-bit field whose high word is within this keeps its value exact (< 2^52) in a double. */
const HIGH_LIMIT = 2 ** 20;
const TWO_32 = 2 ** 32;

export interface DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: Record<string, unknown>;
}

/** Thrown inside the fast path when a batch needs kafkajs' own decoder; never escapes this module. */
const FALL_BACK = Symbol("fall back to kafkajs");

const original = { decode: fetchV11Response.decode };
export const originalFetchV11Decode = original.decode;

let installed = false;

export function installFastRecordBatch(): void {
  if (installed) return;
  installed = true;
  fetchV11Response.decode = decodeFetchV11;
}

// ---- The Fetch v11 response, field for field as kafkajs' v11/response.js reads it ----

const decodeAbortedTransactions = (decoder: Decoder) => ({
  producerId: decoder.readInt64().toString(),
  firstOffset: decoder.readInt64().toString(),
});

const decodePartition = async (decoder: Decoder) => ({
  partition: decoder.readInt32(),
  errorCode: decoder.readInt16(),
  highWatermark: decoder.readInt64().toString(),
  lastStableOffset: decoder.readInt64().toString(),
  lastStartOffset: decoder.readInt64().toString(),
  abortedTransactions: decoder.readArray(decodeAbortedTransactions),
  preferredReadReplica: decoder.readInt32(),
  messages: await decodeMessages(decoder),
});

const decodeResponse = async (decoder: Decoder) => ({
  topicName: decoder.readString(),
  partitions: await decoder.readArrayAsync(decodePartition),
});

export async function decodeFetchV11(rawData: Buffer) {
  const decoder = new Decoder(rawData);
  const clientSideThrottleTime = decoder.readInt32();
  const errorCode = decoder.readInt16();
  const sessionId = decoder.readInt32();
  const responses = await decoder.readArrayAsync(decodeResponse);
  // As kafkajs: a throttleTime of 0, the broker's asked-for throttle reported on the side.
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
}

/** kafkajs' fetch/v4/decodeMessages, with the record batches read by decodeBatch. */
export async function decodeMessages(decoder: Decoder): Promise<unknown[]> {
  const messagesSize = decoder.readInt32();
  if (messagesSize <= 0 || !decoder.canReadBytes(messagesSize)) return [];
  const messagesBuffer: Buffer = decoder.readBytes(messagesSize);
  const magicByte = messagesBuffer.slice(MAGIC_OFFSET).readInt8(0);
  if (magicByte !== MAGIC_BYTE) return MessageSetDecoder(new Decoder(messagesBuffer), messagesSize);

  const records: DecodedRecord[] = [];
  const end = messagesBuffer.length;
  const decompressing = decompressAhead(messagesBuffer);
  let position = 0;
  while (end - position >= RECORD_BATCH_OVERHEAD) {
    const before = records.length;
    let next: number | undefined;
    try {
      next = await decodeBatch(messagesBuffer, position, records, decompressing.get(position));
    } catch (error) {
      if (error !== FALL_BACK) throw error;
      records.length = before;
      next = undefined;
    }
    if (next === -1) break; // a partial batch: the rest of the fetch is cut off
    if (next !== undefined) {
      position = next;
      continue;
    }
    // kafkajs' own decoder, from the same position, with its own handling of a partial batch.
    const fallback = new Decoder(messagesBuffer);
    fallback.offset = position;
    try {
      const batch = await RecordBatchDecoder(fallback);
      for (const record of batch.records) records.push(record as DecodedRecord);
    } catch (error) {
      if ((error as Error).name === "KafkaJSPartialMessageError") break;
      throw error;
    }
    position = fallback.offset;
  }
  return records;
}

/**
 * Starts decompressing every whole compressed batch of a message set at once, keyed by where each
 * starts: zstd and gzip run on worker threads, so the batches after the first are decompressed on
 * the other core while this thread decodes the records of the one before. Only the batch's
 * length, attributes and count are read here; decodeBatch checks everything else and, for a batch
 * not found here, decompresses it itself. A failure surfaces where its batch is decoded.
 */
function decompressAhead(buf: Buffer): Map<number, Promise<unknown>> {
  const started = new Map<number, Promise<unknown>>();
  let position = 0;
  while (buf.length - position >= RECORD_BATCH_OVERHEAD + 12) {
    const length = buf.readInt32BE(position + 8);
    const batchStart = position + 12;
    if (length < RECORD_BATCH_OVERHEAD || buf.length - batchStart < length || buf.readInt8(batchStart + 4) !== MAGIC_BYTE) break;
    const codec = compression.lookupCodecByAttributes(buf.readInt16BE(batchStart + 9));
    if (codec && buf.readInt32BE(batchStart + 45) > 0) {
      const decompressed = codec.decompress(buf.slice(batchStart + 49, batchStart + length));
      decompressed.catch(() => undefined);
      started.set(position, decompressed);
    }
    position = batchStart + length;
  }
  return started;
}

/**
 * Appends the records of the batch at `start` to `out`; returns where the next batch starts, -1
 * for a partial batch, or undefined (or throws FALL_BACK) when kafkajs' decoder must read it.
 * `decompressed`: the batch's records already being decompressed (decompressAhead).
 */
async function decodeBatch(buf: Buffer, start: number, out: DecodedRecord[], decompressed?: Promise<unknown>): Promise<number | undefined> {
  const firstOffsetHigh = buf.readInt32BE(start);
  const length = buf.readInt32BE(start + 8);
  const batchStart = start + 12;
  if (length < RECORD_BATCH_OVERHEAD || firstOffsetHigh >= HIGH_LIMIT || firstOffsetHigh < -HIGH_LIMIT) return undefined;
  if (buf.length - batchStart < length) return -1;
  const batchEnd = batchStart + length;

  const partitionLeaderEpoch = buf.readInt32BE(batchStart);
  const magicByte = buf.readInt8(batchStart + 4);
  // CRC (batchStart + 5): not checked, as kafkajs does not.
  const attributes = buf.readInt16BE(batchStart + 9);
  const lastOffsetDelta = buf.readInt32BE(batchStart + 11);
  const firstTimestampHigh = buf.readInt32BE(batchStart + 15);
  if (firstTimestampHigh >= HIGH_LIMIT || firstTimestampHigh < -HIGH_LIMIT) return undefined;
  const firstOffsetValue = firstOffsetHigh * TWO_32 + buf.readUInt32BE(start + 4);
  const firstTimestampValue = firstTimestampHigh * TWO_32 + buf.readUInt32BE(batchStart + 19);
  const firstOffset = String(firstOffsetValue);
  const firstTimestamp = String(firstTimestampValue);
  const maxTimestamp = readInt64String(buf, batchStart + 23);
  const producerId = readInt64String(buf, batchStart + 31);
  const producerEpoch = buf.readInt16BE(batchStart + 39);
  const firstSequence = buf.readInt32BE(batchStart + 41);

  const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
  const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
  const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? TimestampTypes.LOG_APPEND_TIME : TimestampTypes.CREATE_TIME;
  // Looked up per batch, as kafkajs does: codecs registered after start-up are found.
  const codec = compression.lookupCodecByAttributes(attributes);

  const batchContext = {
    firstOffset,
    firstTimestamp,
    partitionLeaderEpoch,
    inTransaction,
    isControlBatch,
    lastOffsetDelta,
    producerId,
    producerEpoch,
    firstSequence,
    maxTimestamp,
    timestampType,
    magicByte,
  };
  const context: BatchNumbers = {
    firstOffsetValue,
    // kafkajs: LOG_APPEND_TIME batches give every record the batch's max timestamp.
    appendTime: timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : undefined,
    firstTimestampValue,
    magicByte,
    isControlBatch,
    batchContext,
  };

  const count = buf.readInt32BE(batchStart + 45);
  if (!codec) {
    if (count === -1) return batchEnd;
    if (count < 0) return undefined;
    decodeRecords(buf, batchStart + 49, batchEnd, count, context, out);
    return batchEnd;
  }
  if (count <= 0) return batchEnd;
  const records: unknown = await (decompressed ?? codec.decompress(buf.slice(batchStart + 49, batchEnd)));
  if (!Buffer.isBuffer(records)) throw FALL_BACK;
  decodeRecords(records, 0, records.length, count, context, out);
  return batchEnd;
}

interface BatchNumbers {
  firstOffsetValue: number;
  appendTime: string | undefined;
  firstTimestampValue: number;
  magicByte: number;
  isControlBatch: boolean;
  batchContext: Record<string, unknown>;
}

// The cursor of decodeRecords' helpers (one module-level slot: decoding never interleaves).
let cursor = 0;

/**
 * A fetched record. Its key and headers are checked when the batch is read (a bad length falls
 * back to kafkajs' decoder there, as before) but decoded only when read: stream-clean and
 * batch-measure read the value of nearly every record and the key and headers of almost none (a
 * dead letter, recon), and those views and objects were a sixth of batch-measure's time.
 * Reading them gives what kafkajs gives, once per record (the same objects on every read).
 */
export class FetchedRecord implements DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  value: Buffer | null;
  isControlRecord: boolean;
  batchContext: Record<string, unknown>;
  readonly #buf: Buffer;
  /** Where the key's length starts, and the headers' count; the record ends at #end. */
  readonly #keyAt: number;
  readonly #headersAt: number;
  readonly #end: number;
  #key: Buffer | null | undefined;
  #headers: Record<string, Buffer | null | (Buffer | null)[]> | undefined;

  constructor(buf: Buffer, keyAt: number, value: Buffer | null, headersAt: number, end: number, attributes: number, timestamp: string, offset: string, context: BatchNumbers) {
    this.magicByte = context.magicByte;
    this.attributes = attributes;
    this.timestamp = timestamp;
    this.offset = offset;
    this.value = value;
    this.isControlRecord = context.isControlBatch;
    this.batchContext = context.batchContext;
    this.#buf = buf;
    this.#keyAt = keyAt;
    this.#headersAt = headersAt;
    this.#end = end;
  }

  get key(): Buffer | null {
    if (this.#key === undefined) {
      // Synchronous, like decodeRecords: the shared cursor is never in use by another read here.
      cursor = this.#keyAt;
      this.#key = readBytes(this.#buf, this.#end);
    }
    return this.#key;
  }
  set key(key: Buffer | null) {
    this.#key = key;
  }

  get headers(): Record<string, Buffer | null | (Buffer | null)[]> {
    if (this.#headers === undefined) {
      cursor = this.#headersAt;
      const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
      const count = readVarInt(this.#buf, this.#end);
      for (let h = 0; h < count; h++) {
        const headerKey = readString(this.#buf, this.#end);
        addHeader(headers, String(headerKey), readBytes(this.#buf, this.#end));
      }
      this.#headers = headers;
    }
    return this.#headers;
  }
  set headers(headers: Record<string, Buffer | null | (Buffer | null)[]>) {
    this.#headers = headers;
  }
}

/** `count` records from buf[start, end): each a varint length, then the record within it. */
function decodeRecords(buf: Buffer, start: number, end: number, count: number, context: BatchNumbers, out: DecodedRecord[]): void {
  cursor = start;
  for (let i = 0; i < count; i++) {
    const recordLength = readVarInt(buf, end);
    if (recordLength < 0 || cursor + recordLength > end) throw FALL_BACK;
    const recordEnd = cursor + recordLength;
    if (recordLength < 1) throw FALL_BACK;
    const attributes = buf.readInt8(cursor++);
    const timestampDelta = readVarLong(buf, recordEnd);
    const offsetDelta = readVarInt(buf, recordEnd);
    const keyAt = cursor;
    skipBytes(buf, recordEnd);
    const value = readBytes(buf, recordEnd);
    const headersAt = cursor;
    const headerCount = readVarInt(buf, recordEnd);
    if (headerCount < -1) throw FALL_BACK;
    for (let h = 0; h < headerCount; h++) {
      skipBytes(buf, recordEnd);
      skipBytes(buf, recordEnd);
    }
    const timestamp = context.appendTime ?? String(context.firstTimestampValue + timestampDelta);
    out.push(new FetchedRecord(buf, keyAt, value, headersAt, recordEnd, attributes, timestamp, String(context.firstOffsetValue + offsetDelta), context));
    cursor = recordEnd;
  }
}

/** kafkajs' fold of a record's headers: one value, then an array of the values in order. */
function addHeader(headers: Record<string, unknown>, key: string, value: Buffer | null): void {
  const current = headers[key];
  const next = current === undefined ? value : Array.isArray(current) ? current.concat([value]) : [current, value];
  if (key === "__proto__") Object.defineProperty(headers, key, { value: next, writable: true, enumerable: true, configurable: true });
  else headers[key] = next;
}

/** kafkajs' readVarInt (its arithmetic, so the same value for any bytes), bounded by `end`. */
function readVarInt(buf: Buffer, end: number): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    if (cursor >= end || shift > 28) throw FALL_BACK;
    byte = buf[cursor++]!;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong of at most 7 bytes (|value| < 2^48), as a number; longer ones fall back. */
function readVarLong(buf: Buffer, end: number): number {
  let result = 0;
  let scale = 1;
  let byte: number;
  do {
    if (cursor >= end || scale > 2 ** 42) throw FALL_BACK;
    byte = buf[cursor++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/** Past a length-prefixed key, value or header key or value, with readBytes' and readString's checks. */
function skipBytes(buf: Buffer, end: number): void {
  const length = readVarInt(buf, end);
  if (length === -1) return;
  if (length < 0 || cursor + length > end) throw FALL_BACK;
  cursor += length;
}

function readBytes(buf: Buffer, end: number): Buffer | null {
  const length = readVarInt(buf, end);
  if (length === -1) return null;
  if (length < 0 || cursor + length > end) throw FALL_BACK;
  const bytes = buf.subarray(cursor, cursor + length);
  cursor += length;
  return bytes;
}

/**
 * Header keys: a topic's records carry the same few, so the last KNOWN_KEYS keys' bytes are kept
 * with their strings and a repeat is found by comparing bytes instead of decoding them again.
 */
const KNOWN_KEYS = 8;
const knownKeyBytes: Buffer[] = [];
const knownKeyTexts: string[] = [];
let nextKnownKey = 0;

function readString(buf: Buffer, end: number): string | null {
  const length = readVarInt(buf, end);
  if (length === -1) return null;
  if (length < 0 || cursor + length > end) throw FALL_BACK;
  const start = cursor;
  cursor += length;
  for (let k = 0; k < knownKeyBytes.length; k++) if (sameBytes(knownKeyBytes[k]!, buf, start, length)) return knownKeyTexts[k]!;
  const text = buf.toString("utf8", start, start + length);
  knownKeyBytes[nextKnownKey] = Buffer.from(buf.subarray(start, start + length));
  knownKeyTexts[nextKnownKey] = text;
  nextKnownKey = (nextKnownKey + 1) % KNOWN_KEYS;
  return text;
}

function sameBytes(known: Buffer, buf: Buffer, start: number, length: number): boolean {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}

/** kafkajs' readInt64().toString(): the signed 64-bit value in decimal. */
function readInt64String(buf: Buffer, at: number): string {
  const high = buf.readInt32BE(at);
  const low = buf.readUInt32BE(at + 4);
  if (high < HIGH_LIMIT && high >= -HIGH_LIMIT) return String(high * TWO_32 + low);
  return ((BigInt(high) << 32n) + BigInt(low)).toString();
}
