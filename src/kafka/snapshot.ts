/**
 * Reads a whole topic once, read_committed, from the beginning up to the end offsets seen at the
 * start (later messages are left for the next run), without touching any consumer group's
 * committed offsets: a throw-away group (throwaway-consumer.ts). Used by batch-measure (staging)
 * and recon (dead letters, and the gaps of `recon --topic`).
 */
import type { Kafka, KafkaMessage } from "kafkajs";
import { KafkaError } from "../errors.ts";
import { toKafkaError } from "./errors.ts";
import { readThroughThrowawayGroup } from "./throwaway-consumer.ts";

export interface SnapshotOptions {
  /** Start here instead of the beginning, per partition (batch-measure --since-last). */
  readonly from?: ReadonlyMap<number, bigint>;
  /** Read only these partitions (recon looking for a request in doubt). */
  readonly partitions?: ReadonlySet<number>;
  /** Stop here (exclusive) instead of the end offsets, per partition (never past them). */
  readonly until?: ReadonlyMap<number, bigint>;
  /** Read aborted records too (recon telling them apart from control markers). */
  readonly readUncommitted?: boolean;
  /** Give up after this long without reaching the end offsets. */
  readonly timeoutMs?: number;
}

export interface SnapshotResult {
  /** The end offsets the read stopped at, per partition. */
  readonly endOffsets: Map<number, bigint>;
  readonly messages: number;
}

export async function readTopicSnapshot(
  kafka: Kafka,
  topic: string,
  onMessages: (partition: number, messages: KafkaMessage[]) => void | Promise<void>,
  options: SnapshotOptions = {},
): Promise<SnapshotResult> {
  const admin = kafka.admin();
  let endOffsets: Map<number, bigint>;
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) throw new KafkaError(`topic ${topic} does not exist`, { context: { topic } });
    const offsets = await admin.fetchTopicOffsets(topic);
    endOffsets = new Map(
      offsets.map((entry) => {
        const until = options.until?.get(entry.partition);
        const high = BigInt(entry.high);
        return [entry.partition, until !== undefined && until < high ? until : high];
      }),
    );
    const lows = new Map(offsets.map((entry) => [entry.partition, BigInt(entry.low)]));
    const positions = new Map<number, bigint>();
    for (const [partition, low] of lows) {
      const from = options.from?.get(partition);
      positions.set(partition, from !== undefined && from > low ? from : low);
    }
    // A partition left out starts at its end: nothing to read there.
    if (options.partitions) for (const [partition, end] of endOffsets) if (!options.partitions.has(partition)) positions.set(partition, end);
    const remaining = new Set([...endOffsets].filter(([partition, end]) => positions.get(partition)! < end).map(([partition]) => partition));
    let messages = 0;
    if (remaining.size > 0) messages = await consume(kafka, topic, positions, endOffsets, remaining, onMessages, options);
    return { endOffsets, messages };
  } catch (error) {
    throw toKafkaError(error, `cannot read topic ${topic}`, { topic });
  } finally {
    await admin.disconnect();
  }
}

async function consume(
  kafka: Kafka,
  topic: string,
  positions: Map<number, bigint>,
  endOffsets: Map<number, bigint>,
  remaining: Set<number>,
  onMessages: (partition: number, messages: KafkaMessage[]) => void | Promise<void>,
  { timeoutMs = 10 * 60_000, readUncommitted = false }: SnapshotOptions,
): Promise<number> {
  let count = 0;
  let failure: unknown;
  await readThroughThrowawayGroup(kafka, {
    groupPrefix: "kstream-snapshot",
    consumer: { readUncommitted, maxWaitTimeInMs: 200, maxBytesPerPartition: 2 * 1024 * 1024, maxBytes: 8 * 1024 * 1024 },
    topics: [topic],
    fromBeginning: true,
    seek: [...positions].map(([partition, position]) => ({ topic, partition, offset: position.toString() })),
    timeoutMs,
    // Batches of only transaction markers never reach eachBatch; this event sees every batch.
    listen: (consumer, stop) =>
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic !== topic) return;
        if (BigInt(payload.lastOffset) + 1n >= endOffsets.get(payload.partition)!) {
          remaining.delete(payload.partition);
          if (remaining.size === 0) stop();
        }
      }),
    eachBatch: async ({ batch, heartbeat }) => {
      const end = endOffsets.get(batch.partition)!;
      // Offsets ascend within a batch: only a batch that runs past the end needs each one looked at.
      const last = batch.messages.at(-1);
      const wanted = last === undefined || BigInt(last.offset) < end ? batch.messages.slice() : batch.messages.filter((message) => BigInt(message.offset) < end);
      if (wanted.length > 0) {
        count += wanted.length;
        await onMessages(batch.partition, wanted);
      }
      await heartbeat();
    },
    onCrash: (error, restart) => {
      if (!restart) failure = error;
      return !restart;
    },
    onTimeout: () => {
      failure = new KafkaError(`reading ${topic} did not reach its end offsets within ${Math.round(timeoutMs / 1000)} s`, { context: { topic } });
    },
  });
  if (failure !== undefined) throw failure;
  return count;
}
