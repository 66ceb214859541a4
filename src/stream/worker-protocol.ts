/**
 * What the main thread and a clean worker (clean-worker.ts) say to each other, and the two packed
 * buffers that carry a chunk of records there and its outcome back. Pure: bytes in, bytes out.
 *
 * Both buffers are one ArrayBuffer each, handed over as a transferable (moved, not copied), so a
 * chunk costs the main thread one copy of its values and one small object per record read back,
 * never a structured clone of thousands of objects.
 *
 * Records (main → worker), for n records:
 *   [0, 8)            n (uint32), 4 bytes of padding so the arrays below are 8-aligned
 *   8 + 8n            offsets (BigInt64)
 *   8 + 16n           timestamps (Float64: the record timestamp as Number(), NaN included)
 *   8 + 20n           value lengths (Int32, -1 for a null value)
 *   then              the values, back to back
 *
 * Outcomes (worker → main), read in record order, one entry per record:
 *   row:  0x00, key flag (1: a new window key follows as uint16 length + bytes), staging
 *         partition (int32), the value's length in UTF-16 units (uint32, what the outbox sizes
 *         sends by), its UTF-8 length (uint32), its bytes
 *   dead: 0x01, reason (index in DEAD_LETTER_REASONS), message length (uint32), its UTF-8 bytes
 */
import { DEAD_LETTER_REASONS, type CleanRules, type DeadLetterReason, type DeadLetterVerdict } from "../clean/types.ts";
import type { ParquetCompression } from "../storage/parquet-format.ts";

/** One record to clean: what a worker needs of a fetched KafkaMessage. */
export interface RecordIn {
  readonly offset: bigint;
  readonly timestamp: number;
  readonly value: Uint8Array | null;
}

/** The records of one chunk as the worker reads them. */
export interface PackedRecords {
  readonly count: number;
  offset(index: number): bigint;
  timestamp(index: number): number;
  /** A view of the value (no copy), or null. */
  value(index: number): Uint8Array | null;
}

export function packRecords(records: readonly RecordIn[]): ArrayBuffer {
  const count = records.length;
  let valueBytes = 0;
  for (const record of records) valueBytes += record.value?.length ?? 0;
  const valuesAt = 8 + 20 * count;
  const buffer = new ArrayBuffer(valuesAt + valueBytes);
  new DataView(buffer).setUint32(0, count, true);
  const offsets = new BigInt64Array(buffer, 8, count);
  const timestamps = new Float64Array(buffer, 8 + 8 * count, count);
  const lengths = new Int32Array(buffer, 8 + 16 * count, count);
  const bytes = new Uint8Array(buffer);
  let at = valuesAt;
  for (let index = 0; index < count; index++) {
    const record = records[index]!;
    offsets[index] = record.offset;
    timestamps[index] = record.timestamp;
    const value = record.value;
    if (value === null) {
      lengths[index] = -1;
    } else {
      lengths[index] = value.length;
      bytes.set(value, at);
      at += value.length;
    }
  }
  return buffer;
}

export function readRecords(buffer: ArrayBuffer): PackedRecords {
  const count = new DataView(buffer).getUint32(0, true);
  const offsets = new BigInt64Array(buffer, 8, count);
  const timestamps = new Float64Array(buffer, 8 + 8 * count, count);
  const lengths = new Int32Array(buffer, 8 + 16 * count, count);
  const starts = new Float64Array(count);
  let at = 8 + 20 * count;
  for (let index = 0; index < count; index++) {
    starts[index] = at;
    at += Math.max(0, lengths[index]!);
  }
  return {
    count,
    offset: (index) => offsets[index]!,
    timestamp: (index) => timestamps[index]!,
    value: (index) => (lengths[index]! < 0 ? null : new Uint8Array(buffer, starts[index]!, lengths[index]!)),
  };
}

/** The outcome of one record as the main thread reads it back. */
export type Outcome =
  | {
      readonly kind: "row";
      readonly key: string;
      /** The staging value: a Buffer when read back from a worker, the string itself when cleaned in this thread. */
      readonly value: Buffer | string;
      readonly partition: number;
      /** The value's length in UTF-16 units (what the outbox sizes sends by, either way). */
      readonly size: number;
    }
  | { readonly kind: "dead"; readonly verdict: DeadLetterVerdict };

const ROW = 0;
const DEAD = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds the outcomes buffer, growing by doubling (a chunk's outcomes are a few hundred kB at most). */
export class OutcomeWriter {
  #bytes = new Uint8Array(64 * 1024);
  #view = new DataView(this.#bytes.buffer);
  #at = 4;
  #count = 0;
  #lastKey: string | undefined;

  row(key: string, partition: number, value: string): void {
    const newKey = key !== this.#lastKey;
    this.#ensure(16 + (newKey ? 2 + key.length * 3 : 0) + value.length * 3);
    this.#bytes[this.#at++] = ROW;
    this.#bytes[this.#at++] = newKey ? 1 : 0;
    if (newKey) {
      this.#lastKey = key;
      this.#at = this.#string16(key);
    }
    this.#view.setInt32(this.#at, partition, true);
    this.#view.setUint32(this.#at + 4, value.length, true);
    this.#at = this.#string32(value, this.#at + 8);
    this.#count++;
  }

  dead(verdict: DeadLetterVerdict): void {
    this.#ensure(6 + verdict.message.length * 3);
    this.#bytes[this.#at++] = DEAD;
    this.#bytes[this.#at++] = DEAD_LETTER_REASONS.indexOf(verdict.reason);
    this.#at = this.#string32(verdict.message, this.#at);
    this.#count++;
  }

  /** The packed outcomes (a fresh ArrayBuffer of exactly their size, ready to transfer). */
  finish(): ArrayBuffer {
    this.#view.setUint32(0, this.#count, true);
    return this.#bytes.buffer.slice(0, this.#at) as ArrayBuffer;
  }

  #string16(text: string): number {
    const { written } = encoder.encodeInto(text, this.#bytes.subarray(this.#at + 2));
    this.#view.setUint16(this.#at, written, true);
    return this.#at + 2 + written;
  }

  /** Writes uint32 length + UTF-8 bytes at `at`; returns the position after them. */
  #string32(text: string, at: number): number {
    const { written } = encoder.encodeInto(text, this.#bytes.subarray(at + 4));
    this.#view.setUint32(at, written, true);
    return at + 4 + written;
  }

  #ensure(more: number): void {
    if (this.#at + more <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#at + more) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#bytes.subarray(0, this.#at));
    this.#bytes = bigger;
    this.#view = new DataView(bigger.buffer);
  }
}

/** Reads the outcomes in record order; each row's value is a Buffer view into `buffer` (no copy). */
export class OutcomeReader {
  readonly count: number;
  readonly #buffer: ArrayBuffer;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #at = 4;
  #key = "";

  constructor(buffer: ArrayBuffer) {
    this.#buffer = buffer;
    this.#view = new DataView(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.count = this.#view.getUint32(0, true);
  }

  next(): Outcome {
    const kind = this.#bytes[this.#at++];
    if (kind === ROW) {
      if (this.#bytes[this.#at++] === 1) {
        const length = this.#view.getUint16(this.#at, true);
        this.#key = decoder.decode(this.#bytes.subarray(this.#at + 2, this.#at + 2 + length));
        this.#at += 2 + length;
      }
      const partition = this.#view.getInt32(this.#at, true);
      const size = this.#view.getUint32(this.#at + 4, true);
      const length = this.#view.getUint32(this.#at + 8, true);
      const value = Buffer.from(this.#buffer, this.#at + 12, length);
      this.#at += 12 + length;
      return { kind: "row", key: this.#key, value, partition, size };
    }
    if (kind !== DEAD) throw new Error(`outcome ${kind} at byte ${this.#at - 1} is neither a row nor a dead letter`);
    const reason: DeadLetterReason | undefined = DEAD_LETTER_REASONS[this.#bytes[this.#at++]!];
    if (reason === undefined) throw new Error(`dead letter reason ${this.#bytes[this.#at - 1]} is unknown`);
    const length = this.#view.getUint32(this.#at, true);
    const message = decoder.decode(this.#bytes.subarray(this.#at + 4, this.#at + 4 + length));
    this.#at += 4 + length;
    return { kind: "dead", verdict: { reason, message } };
  }
}

/** What a worker needs to clean one input partition's records and keep its rows. */
export interface SinkSpec {
  readonly topic: string;
  readonly partition: number;
  readonly rules: CleanRules;
  readonly compression: ParquetCompression;
  /** Partitions of the staging topic: the worker picks each staging message's partition. */
  readonly stagingPartitions: number;
}

/** One Parquet file encoded by a worker, its bytes still to be put into the store. */
export interface EncodedFile {
  /** "ingest_date=…/<name>", the key in the ParquetStore. */
  readonly key: string;
  readonly rows: number;
  readonly bytes: Uint8Array;
}

/**
 * Requests, main → worker. Those with an `id` are answered once (`done` or `failed` with the same
 * id); the others are orders, answered only when they fail. Messages arrive in the order sent, so
 * an order needs no answer to be in effect before the next request.
 */
export type WorkerRequest =
  | { readonly type: "open"; readonly sink: number; readonly spec: SinkSpec }
  /** Clean a chunk; its rows wait in the worker until `accept` or `release`. */
  | { readonly type: "clean"; readonly id: number; readonly sink: number; readonly chunk: number; readonly records: ArrayBuffer }
  /** The next `rows` rows of a cleaned chunk join the sink's open cycle. */
  | { readonly type: "accept"; readonly sink: number; readonly chunk: number; readonly rows: number }
  /** The chunk's rows not accepted are dropped. */
  | { readonly type: "release"; readonly sink: number; readonly chunk: number }
  /** Encode the open cycle's rows (one file per ingest date) and empty it. */
  | { readonly type: "encode"; readonly id: number; readonly sink: number }
  | { readonly type: "discard"; readonly sink: number }
  | { readonly type: "close"; readonly sink: number };

export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "cleaned"; readonly id: number; readonly outcomes: ArrayBuffer }
  | { readonly type: "encoded"; readonly id: number; readonly files: readonly EncodedFile[] }
  | { readonly type: "failed"; readonly id: number | undefined; readonly message: string; readonly name: string; readonly code?: string };
