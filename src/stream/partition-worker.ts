/**
 * The start of one input partition's work in this process: its transactional producer (which
 * fences the previous owner), the committed offset (read only after that), start-up recovery of
 * the partition's Parquet files (in its folder or bucket), then a PartitionCycle that takes the partition's batches.
 *
 * A transactional producer per input partition (transactional id = group + topic + partition)
 * is what fences a zombie: whoever owns the partition next initialises the same id, which aborts
 * the old owner's open transaction and makes its later commits fail.
 */
import type { Kafka } from "kafkajs";
import { crashPoint } from "../faults.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { startTransactionalProducer, type TransactionalProducer } from "../kafka/transactional-producer.ts";
import { log } from "../ui/log.ts";
import { PartitionCycle } from "./partition-cycle.ts";
import { recoverPartition } from "./recovery.ts";
import type { StreamSettings, WorkerContext } from "./types.ts";

const MAX_TRANSACTION_TIMEOUT_MS = 15 * 60_000;

export async function startPartitionWorker(kafka: Kafka, settings: StreamSettings, partition: number, context: WorkerContext): Promise<PartitionCycle> {
  const { inputTopic: topic } = settings;
  let producer: TransactionalProducer;
  try {
    crashPoint("worker-start");
    producer = await startTransactionalProducer(kafka, {
      transactionalId: `kstream-${settings.groupId}-${topic}-${partition}`,
      // A cycle lasts up to file_max_age; leave room for the Parquet write and the commit, within
      // the broker's default cap (transaction.max.timeout.ms, 15 minutes).
      transactionTimeoutMs: Math.min(MAX_TRANSACTION_TIMEOUT_MS, Math.max(60_000, settings.fileMaxAgeMs * 2 + 30_000)),
      retry: settings.retry,
      compression: settings.sendCompression,
    });
  } catch (error) {
    throw toKafkaError(error, "cannot start the transactional producer", { topic, partition });
  }

  // Invariant: the committed offset is read after the producer fenced the previous owner, so a
  // commit whose answer was lost cannot land after the read; recovery would delete its files.
  let committedOffset: bigint;
  try {
    committedOffset = await context.readCommittedOffset();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw toKafkaError(error, "cannot read the committed offset", { topic, partition });
  }
  const recovery = await recoverPartition(settings.store, topic, partition, committedOffset).catch(async (error) => {
    await producer.disconnect().catch(() => undefined);
    throw error;
  });
  for (const file of recovery.deleted) log.warn(`removed ${file}: written but never committed (partition ${partition}, committed offset ${committedOffset})`);

  const cleaner = context.cleanerFor(partition);
  return new PartitionCycle({ partition, settings, producer, cleaner, committedOffset, ...context });
}
