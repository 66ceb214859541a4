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
import { toKafkaError } from "./errors.ts";

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

/** The group's committed offsets, or a partition's low watermark where the group never committed. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string, bounds?: Map<number, PartitionBounds>): Promise<Map<number, bigint>> {
  const known = bounds ?? (await partitionBounds(admin, topic));
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offsets = new Map<number, bigint>();
    for (const [partition, { low }] of known) {
      const committed = entry?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
      offsets.set(partition, committed === "-1" ? low : BigInt(committed));
    }
    return offsets;
  } catch (error) {
    throw toKafkaError(error, "cannot read the group's committed offsets", { topic, group: groupId });
  }
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
