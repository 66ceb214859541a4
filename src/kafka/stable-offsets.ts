/**
 * A group's committed offsets read with require_stable (OffsetFetch v7, KIP-447), which kafkajs
 * cannot send (its OffsetFetch stops at v4).
 *
 * Invariant: the offset returned for a partition is never older than a transactional offset
 * commit whose transaction has been decided. Without require_stable the coordinator answers with
 * the offset as it stood before any still-pending transactional offsets of the group (those of a
 * transaction that is open, or that a fencing producer just aborted or completed but whose
 * markers the coordinator has not applied yet). With it, such a partition answers
 * UNSTABLE_OFFSET_COMMIT (88, retriable) and the read is tried again until the transaction is
 * decided, so a new owner that fenced the previous one and then reads sees the previous owner's
 * last commit.
 *
 * Wire format (OffsetFetch v7 is a flexible version: compact strings and arrays, tagged fields):
 *   Request header v2 = header v1 (what kafkajs writes) + an empty tag buffer: written here as the
 *   body's first byte.
 *   Request  v7: group_id COMPACT_STRING, topics COMPACT_NULLABLE_ARRAY [name COMPACT_STRING,
 *                partition_indexes COMPACT_ARRAY [INT32], TAG_BUFFER], require_stable BOOLEAN, TAG_BUFFER
 *   Response header v1 = correlation id (kafkajs reads it) + a tag buffer: skipped here as the
 *   body's first field.
 *   Response v7: throttle_time_ms INT32, topics COMPACT_ARRAY [name COMPACT_STRING, partitions
 *                COMPACT_ARRAY [partition_index INT32, committed_offset INT64,
 *                committed_leader_epoch INT32, metadata COMPACT_NULLABLE_STRING, error_code INT16,
 *                TAG_BUFFER], TAG_BUFFER], error_code INT16, TAG_BUFFER
 */
import Encoder from "kafkajs/src/protocol/encoder.js";
import { createErrorFromCode } from "kafkajs/src/protocol/error.js";
import { log } from "../ui/log.ts";
import { retryWhileRetriable } from "./retry.ts";

export const OFFSET_FETCH_API_KEY = 9;
/** The lowest OffsetFetch version with require_stable (and the last one with a single group). */
export const STABLE_OFFSET_FETCH_VERSION = 7;

export const UNSTABLE_OFFSET_COMMIT = 88;

export interface OffsetFetchV7Partition {
  readonly partition: number;
  /** -1 where the group never committed. */
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface OffsetFetchV7Response {
  readonly throttleTimeMs: number;
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly OffsetFetchV7Partition[] }[];
  readonly errorCode: number;
}

/** The request body, starting with the request header's (empty) tag buffer. */
export function encodeOffsetFetchV7(groupId: string, topics: readonly { topic: string; partitions: readonly number[] }[], requireStable = true): Buffer {
  const parts: Buffer[] = [Buffer.from([0])];
  const uvarint = (value: number) => {
    const bytes: number[] = [];
    let rest = value >>> 0;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    parts.push(Buffer.from(bytes));
  };
  const compactString = (value: string) => {
    const bytes = Buffer.from(value, "utf8");
    uvarint(bytes.length + 1);
    parts.push(bytes);
  };
  const int32 = (value: number) => {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    parts.push(buffer);
  };
  compactString(groupId);
  uvarint(topics.length + 1);
  for (const { topic, partitions } of topics) {
    compactString(topic);
    uvarint(partitions.length + 1);
    for (const partition of partitions) int32(partition);
    uvarint(0);
  }
  parts.push(Buffer.from([requireStable ? 1 : 0]));
  uvarint(0);
  return Buffer.concat(parts);
}

/** Reads a response body (after the correlation id), starting with the response header's tag buffer. */
export function decodeOffsetFetchV7(body: Buffer): OffsetFetchV7Response {
  let at = 0;
  const need = (length: number) => {
    if (at + length > body.length) throw new RangeError(`OffsetFetch v7 response ends at byte ${body.length}, needed ${at + length}`);
  };
  const uvarint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      need(1);
      const byte = body[at++]!;
      if (shift > 28) throw new RangeError("OffsetFetch v7 response: varint too long");
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const int16 = () => (need(2), (at += 2), body.readInt16BE(at - 2));
  const int32 = () => (need(4), (at += 4), body.readInt32BE(at - 4));
  const int64 = () => (need(8), (at += 8), body.readBigInt64BE(at - 8));
  const compactNullableString = () => {
    const length = uvarint() - 1;
    if (length < 0) return null;
    need(length);
    at += length;
    return body.toString("utf8", at - length, at);
  };
  const compactArray = <T>(item: () => T): T[] => {
    const length = uvarint() - 1;
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(item());
    return items;
  };
  /** Tagged fields are skipped: none is defined for these structures in v7. */
  const tagBuffer = () => {
    const count = uvarint();
    for (let i = 0; i < count; i++) {
      uvarint();
      const size = uvarint();
      need(size);
      at += size;
    }
  };

  tagBuffer();
  const throttleTimeMs = int32();
  const topics = compactArray(() => {
    const topic = compactNullableString() ?? "";
    const partitions = compactArray(() => {
      const partition = int32();
      const offset = int64();
      const leaderEpoch = int32();
      const metadata = compactNullableString();
      const errorCode = int16();
      tagBuffer();
      return { partition, offset, leaderEpoch, metadata, errorCode };
    });
    tagBuffer();
    return { topic, partitions };
  });
  const errorCode = int16();
  tagBuffer();
  return { throttleTimeMs, topics, errorCode };
}

/** Throws kafkajs' error for the response's first error (the group's, then a partition's): retriable ones (88, 14, 16…) are marked so. */
export function failOnError(response: OffsetFetchV7Response): OffsetFetchV7Response {
  if (response.errorCode !== 0) throw createErrorFromCode(response.errorCode);
  for (const { partitions } of response.topics) {
    for (const { errorCode } of partitions) if (errorCode !== 0) throw createErrorFromCode(errorCode);
  }
  return response;
}

/** The request and response pair kafkajs' Connection.send takes. */
export function offsetFetchV7Request(groupId: string, topic: string, partitions: readonly number[]) {
  return {
    request: {
      apiKey: OFFSET_FETCH_API_KEY,
      apiVersion: STABLE_OFFSET_FETCH_VERSION,
      apiName: "OffsetFetch",
      encode: async () => rawEncoder(encodeOffsetFetchV7(groupId, [{ topic, partitions }])),
    },
    response: {
      decode: async (payload: Buffer) => {
        const decoded = decodeOffsetFetchV7(payload);
        return { ...decoded, clientSideThrottleTime: decoded.throttleTimeMs };
      },
      parse: async (data: OffsetFetchV7Response) => failOnError(data),
    },
  };
}

/** An Encoder holding exactly `bytes` (kafkajs' request framing appends the body's encoder as is). */
function rawEncoder(bytes: Buffer): Encoder {
  const encoder = new Encoder(bytes.length);
  encoder.ensureAvailable(bytes.length);
  bytes.copy(encoder.buf, encoder.offset);
  encoder.offset += bytes.length;
  return encoder;
}

/** What src/kafka/client-cluster.ts records of each admin client: its kafkajs Cluster. */
export interface CoordinatorCluster {
  findGroupCoordinator(args: { groupId: string }): Promise<CoordinatorBroker>;
}

export interface CoordinatorBroker {
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  connectionPool: { send(protocolRequest: unknown): Promise<unknown> };
  disconnect(): Promise<void>;
}

/**
 * The group's committed offsets for `partitions` of `topic` (-1n where it never committed), read
 * with require_stable from the group coordinator; UNSTABLE_OFFSET_COMMIT and a moved or loading
 * coordinator are retried for up to `retryLimitMs`. Undefined when the coordinator does not speak
 * OffsetFetch v7: the caller then reads without require_stable.
 */
export async function stableCommittedOffsets(
  cluster: CoordinatorCluster,
  groupId: string,
  topic: string,
  partitions: readonly number[],
  retryLimitMs: number,
): Promise<Map<number, bigint> | undefined> {
  return await retryWhileRetriable(async () => {
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    const supported = coordinator.versions?.[OFFSET_FETCH_API_KEY]?.maxVersion ?? -1;
    if (supported < STABLE_OFFSET_FETCH_VERSION) {
      log.debug(`the group coordinator speaks OffsetFetch up to v${supported}, not v${STABLE_OFFSET_FETCH_VERSION}: reading committed offsets without require_stable`);
      return undefined;
    }
    let response: OffsetFetchV7Response;
    try {
      response = (await coordinator.connectionPool.send(offsetFetchV7Request(groupId, topic, partitions))) as OffsetFetchV7Response;
    } catch (error) {
      // As kafkajs' Broker does after a closed connection: the next attempt connects afresh.
      if ((error as { name?: string }).name === "KafkaJSConnectionClosedError") await coordinator.disconnect();
      throw error;
    }
    const offsets = new Map<number, bigint>();
    for (const entry of response.topics) {
      if (entry.topic !== topic) continue;
      for (const { partition, offset } of entry.partitions) offsets.set(partition, offset);
    }
    return offsets;
  }, retryLimitMs);
}
