/**
 * One short read through a throw-away consumer group: a fresh group id, never committed, deleted
 * afterwards, so no consumer group's committed offsets are touched. The caller positions the read
 * (`seek`), handles batches, and calls `stop()` when it has what it wants; the read also stops at
 * `timeoutMs` (calling `onTimeout`) or on a consumer crash `onCrash` says ends it. Used by
 * snapshot.ts (whole-topic reads) and record-timestamps.ts (one record per partition).
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from "kafkajs";

export interface ThrowawayRead {
  /** Group id prefix, e.g. "kstream-snapshot": the group is `${prefix}-${uuid}`. */
  readonly groupPrefix: string;
  readonly consumer: Omit<ConsumerConfig, "groupId">;
  readonly topics: readonly string[];
  readonly seek: readonly { topic: string; partition: number; offset: string }[];
  readonly timeoutMs: number;
  eachBatch(payload: EachBatchPayload, stop: () => void): Promise<void>;
  onTimeout?(): void;
  /** A consumer crash (`restart`: kafkajs will restart it); the read stops if this returns true. */
  onCrash(error: Error, restart: boolean): boolean;
  /** Where a subscription starts before `seek` moves it (kafkajs needs one). */
  readonly fromBeginning: boolean;
  /** Extra listeners on the consumer (kafkajs events), set before it connects. */
  listen?(consumer: Consumer, stop: () => void): void;
}

export async function readThroughThrowawayGroup(kafka: Kafka, read: ThrowawayRead): Promise<void> {
  const groupId = `${read.groupPrefix}-${Bun.randomUUIDv7()}`;
  const consumer = kafka.consumer({ ...read.consumer, groupId });
  let stop!: () => void;
  const finished = new Promise<void>((resolve) => {
    stop = resolve;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (read.onCrash(payload.error, payload.restart)) stop();
  });
  read.listen?.(consumer, stop);
  const timer = setTimeout(() => {
    read.onTimeout?.();
    stop();
  }, read.timeoutMs);
  try {
    await consumer.connect();
    for (const topic of new Set(read.topics)) await consumer.subscribe({ topic, fromBeginning: read.fromBeginning });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => read.eachBatch(payload, stop) });
    for (const position of read.seek) consumer.seek(position);
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await deleteGroup(kafka, groupId);
  }
}

/** Best effort: a group left behind is empty and expires on its own. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin
    .connect()
    .then(() => admin.deleteGroups([groupId]))
    .catch(() => undefined)
    .finally(() => admin.disconnect());
}
