/**
 * The one reader of a topic's offsets and a group's committed offsets, shared by stream-clean
 * (--until-caught-up) and recon.
 *
 * End offsets are last stable offsets: kafkajs' admin client builds its cluster without an
 * isolation level, and its ListOffsets request (v2+, protocol/requests/listOffsets/index.js)
 * then defaults isolation_level to READ_COMMITTED, so the broker answers "latest" with the last
 * stable offset — the first offset of the oldest still-open transaction, or the high watermark
 * when none is open. That is the end a read_committed consumer can reach; offsets past it are
 * not decided yet.
 */
import type { Admin } from "kafkajs";
import { log } from "../ui/log.ts";
import { clusterOf } from "./client-cluster.ts";
import { toKafkaError } from "./errors.ts";
import { stableCommittedOffsets } from "./stable-offsets.ts";

/** How long a committed-offset read waits out pending transactions and coordinator moves when the caller gives no bound: kafka.retry_limit's default. */
export const DEFAULT_STABLE_READ_LIMIT_MS = 120_000;

export interface PartitionBounds {
  /** The low watermark: the first offset still on the log. */
  readonly low: bigint;
  /** The last stable offset (see above). */
  readonly end: bigint;
}

export async function partitionBounds(admin: Admin, topic: string): Promise<Map<number, PartitionBounds>> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, { low: BigInt(entry.low), end: BigInt(entry.high) }]));
  } catch (error) {
    throw toKafkaError(error, "cannot read the topic's offsets", { topic });
  }
}

/**
 * The group's committed offsets, or a partition's low watermark where the group never committed.
 *
 * Read with require_stable (stable-offsets.ts): a partition whose group has transactional offsets
 * still pending is read again until that transaction is decided, for up to `retryLimitMs`. So a
 * new owner that fenced the previous owner's transactional id and then reads gets the previous
 * owner's last committed offset, never the one before it. Against a coordinator without
 * OffsetFetch v7 the read falls back to kafkajs' fetchOffsets (no require_stable).
 */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
  bounds?: Map<number, PartitionBounds>,
  retryLimitMs: number = DEFAULT_STABLE_READ_LIMIT_MS,
): Promise<Map<number, bigint>> {
  const known = bounds ?? (await partitionBounds(admin, topic));
  try {
    const committed = (await readStable(admin, groupId, topic, [...known.keys()], retryLimitMs)) ?? (await readUnstable(admin, groupId, topic));
    const offsets = new Map<number, bigint>();
    for (const [partition, { low }] of known) {
      const offset = committed.get(partition) ?? -1n;
      offsets.set(partition, offset === -1n ? low : offset);
    }
    return offsets;
  } catch (error) {
    throw toKafkaError(error, "cannot read the group's committed offsets", { topic, group: groupId });
  }
}

async function readStable(admin: Admin, groupId: string, topic: string, partitions: number[], retryLimitMs: number): Promise<Map<number, bigint> | undefined> {
  const cluster = clusterOf(admin);
  if (cluster === undefined) {
    log.debug("this admin client was not built by Kafka#admin with kstream's patches: reading committed offsets without require_stable");
    return undefined;
  }
  return await stableCommittedOffsets(cluster, groupId, topic, partitions, retryLimitMs);
}

/** kafkajs' own read (OffsetFetch v1–v4, without require_stable). */
export async function readUnstable(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** Per partition, the first offset whose timestamp is at or after `timestampMs` (the end offset when none is). */
export async function offsetsAtTime(admin: Admin, topic: string, timestampMs: number): Promise<Map<number, bigint>> {
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.offset)]));
  } catch (error) {
    throw toKafkaError(error, "cannot look up offsets by timestamp", { topic, timestamp: new Date(timestampMs).toISOString() });
  }
}
