/**
 * How elements become produce requests, and which elements no request may carry. Pure.
 *
 * Each request is one record batch per partition, kept well under the broker's 1 MB record-batch
 * limit whatever the record size: a big element goes in a request of its own rather than on top of
 * a nearly full one, so no batch passes the limit. (A request refused for one partition is
 * acknowledged for the others, but kafkajs reports only the failure, and the ledger would miss
 * what landed.)
 */
import type { Message } from "kafkajs";
import { RUN_HEADER } from "../ledger/ledger.ts";

export const MAX_REQUEST_BYTES = 512 * 1024;

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

/** The messages of the next request, counted by their elements' bytes in the file. */
export interface RequestBatch {
  readonly size: number;
  /** True when an element of `elementBytes` must go in the next request, not on top of this one. */
  wouldOverflow(elementBytes: number): boolean;
  add(message: Message, elementBytes: number): void;
  /** True when the request should go now: full by bytes, or holding `dueMessages` messages. */
  isDue(dueMessages: number): boolean;
  /** The batch's messages; the batch starts again empty. */
  take(): Message[];
}

export function createRequestBatch(maxBytes = MAX_REQUEST_BYTES): RequestBatch {
  let messages: Message[] = [];
  let bytes = 0;
  return {
    get size() {
      return messages.length;
    },
    wouldOverflow: (elementBytes) => messages.length > 0 && bytes + elementBytes > maxBytes,
    add(message, elementBytes) {
      messages.push(message);
      bytes += elementBytes;
    },
    isDue: (dueMessages) => bytes >= maxBytes || messages.length >= dueMessages,
    take() {
      const taken = messages;
      messages = [];
      bytes = 0;
      return taken;
    },
  };
}
