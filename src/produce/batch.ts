/**
 * How elements become produce requests, and which elements no request may carry. Pure.
 *
 * Each request is one record batch per partition, and each of those is kept well under the
 * broker's 1 MB record-batch limit whatever the record size and however the keys fall: a big
 * element goes in a request of its own rather than on top of its partition's nearly full batch, so
 * no batch passes the limit. (A request refused for one partition is acknowledged for the others,
 * but kafkajs reports only the failure, and the ledger would miss what landed.) The bound is per
 * partition, not per request, so a request to several partitions carries several batches' worth
 * and the run makes fewer round trips (one request is in flight at a time); the request as a whole
 * has a bound too, so many partitions do not make one huge request.
 */
import type { Message } from "kafkajs";
import { RUN_HEADER } from "../ledger/ledger.ts";

/** Input bytes of one partition's record batch in a request: half the broker's default 1 MB limit, before compression. */
export const MAX_PARTITION_BYTES = 512 * 1024;
/** Input bytes of one request, all partitions together. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/**
 * Room for what a record batch holds besides the key and value: the batch header (61 bytes), the
 * record's varints, the run header's name and value (a 36-character UUID), and 1 KiB for the
 * headers stream-clean adds to a dead letter (reason, message ≤ 200 characters, source topic,
 * partition, offset): a record produce publishes can always be dead-lettered to a topic with the
 * same limit, instead of becoming a poison pill that fails every stream-clean cycle.
 */
export const RECORD_OVERHEAD_BYTES = 61 + 64 + RUN_HEADER.length + 36 + 1024;

/**
 * The size of an element's record when it is more than `limit` bytes, else undefined: its value's
 * and key's UTF-8 bytes plus the record's overhead.
 */
export function oversize(value: Uint8Array, key: Uint8Array | undefined, limit: number): number | undefined {
  const size = value.length + (key === undefined ? 0 : key.length) + RECORD_OVERHEAD_BYTES;
  return size > limit ? size : undefined;
}

/** The messages of the next request, counted by their elements' bytes in the file, per partition and in all. */
export interface RequestBatch {
  readonly size: number;
  /** True when an element of `elementBytes` for `partition` must go in the next request, not on top of this one. */
  wouldOverflow(partition: number, elementBytes: number): boolean;
  add(message: Message, partition: number, elementBytes: number): void;
  /** True when the request should go now: a partition's batch or the request full by bytes, or holding `dueMessages` messages. */
  isDue(dueMessages: number): boolean;
  /** The batch's messages; the batch starts again empty. */
  take(): Message[];
}

export interface RequestBounds {
  readonly partitionBytes: number;
  readonly requestBytes: number;
}

export function createRequestBatch(bounds: RequestBounds = { partitionBytes: MAX_PARTITION_BYTES, requestBytes: MAX_REQUEST_BYTES }): RequestBatch {
  let messages: Message[] = [];
  let bytes = 0;
  /** Bytes per partition, indexed by partition number. */
  let partitionBytes: number[] = [];
  let full = false;
  return {
    get size() {
      return messages.length;
    },
    wouldOverflow: (partition, elementBytes) =>
      messages.length > 0 && ((partitionBytes[partition] ?? 0) + elementBytes > bounds.partitionBytes || bytes + elementBytes > bounds.requestBytes),
    add(message, partition, elementBytes) {
      messages.push(message);
      bytes += elementBytes;
      const inPartition = (partitionBytes[partition] ?? 0) + elementBytes;
      partitionBytes[partition] = inPartition;
      if (inPartition >= bounds.partitionBytes || bytes >= bounds.requestBytes) full = true;
    },
    isDue: (dueMessages) => full || messages.length >= dueMessages,
    take() {
      const taken = messages;
      messages = [];
      bytes = 0;
      partitionBytes = [];
      full = false;
      return taken;
    },
  };
}
