/**
 * The stream-clean job: a kafkajs consumer group on the input topic whose partitions are each
 * handed to a PartitionWorker (clean → Parquet + staging/dead letters → one transaction with the
 * consumer offset). This file owns the group's life: assignments and rebalances, the clock that
 * closes old cycles when no record arrives, --until-caught-up, and the graceful stop.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { KafkaError, KstreamError } from "../errors.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { committedOffsets, partitionBounds } from "../kafka/offsets.ts";
import { boundedRetries, retryWhileRetriable } from "../kafka/retry.ts";
import { ensureTopics } from "../kafka/topics.ts";
import { log } from "../ui/log.ts";
import { createProgress } from "../ui/progress.ts";
import { shutdownSignal } from "../ui/shutdown.ts";
import { type PartitionWorker, type StreamCounters, type StreamSettings, startPartitionWorker } from "./partition-worker.ts";

export interface CleanStreamOptions {
  /** Stop once everything up to the end offsets seen at start is committed (by the whole group). */
  readonly untilCaughtUp: boolean;
}

export interface CleanStreamSummary extends StreamCounters {
  group: string;
  topic: string;
  seconds: number;
  records_per_second: number;
  stopped_by: "caught-up" | "signal";
}

/** How often the clock looks for cycles older than file_max_age (and progress toward the end offsets). */
const TICK_MS = 250;
/** Pause before starting a partition's worker again after its producer could not start. */
const WORKER_START_PAUSE_MS = 1_000;

export async function runCleanStream(kafka: Kafka, settings: StreamSettings, options: CleanStreamOptions): Promise<CleanStreamSummary> {
  const topic = settings.inputTopic;
  const counters: StreamCounters = { read: 0, read_again: 0, cleaned: 0, dead_lettered: 0, files: 0, commits: 0 };
  const readUpTo = new Map<number, bigint>();
  const startedAt = performance.now();
  const admin = kafka.admin();
  await connectAdmin(admin, topic);
  let partitionCounts: { staging: number; deadLetter: number };
  try {
    await ensureTopics(admin, [settings.stagingTopic, settings.deadLetterTopic], settings.topicLayout, { input: topic, deadLetter: settings.deadLetterTopic });
    partitionCounts = { staging: await partitionCount(admin, settings.stagingTopic), deadLetter: await partitionCount(admin, settings.deadLetterTopic) };
  } catch (error) {
    await admin.disconnect();
    throw error;
  }

  const consumer: Consumer = kafka.consumer({
    groupId: settings.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxBytes: 8 * 1024 * 1024,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(settings.sessionTimeoutMs / 10)),
    rebalanceTimeout: 60_000,
    allowAutoTopicCreation: false,
    retry: {
      ...settings.retry,
      // kafkajs restarts the consumer after a retriable crash (a coordinator still loading, a
      // broker restarting) for as long as kafka.retry_limit allows; anything else ends the run.
      restartOnFailure: async (error) => restarts.allow(error),
    },
  });

  const restarts = boundedRetries(settings.retryLimitMs);
  const adminFailures = boundedRetries(settings.retryLimitMs);
  /** Partition restarts after a failed cycle or start; a commit anywhere since means the trouble is over. */
  const partitionRestarts = boundedRetries(settings.retryLimitMs);
  let commitsSeen = 0;
  const workers = new Map<number, Promise<PartitionWorker>>();
  let stopping = false;
  let failure: unknown;
  let finish!: (reason: CleanStreamSummary["stopped_by"]) => void;
  const finished = new Promise<CleanStreamSummary["stopped_by"]>((resolve) => {
    finish = resolve;
  });
  const fail = (error: unknown) => {
    failure ??= error;
    finish("signal");
  };

  const targets = options.untilCaughtUp ? await endOffsets(admin, topic) : undefined;
  const highWatermarks = new Map<number, bigint>();

  const readCommitted = (partition: number) => async () =>
    (await retryWhileRetriable(() => committedOffsets(admin, settings.groupId, topic), settings.retryLimitMs)).get(partition) ?? 0n;

  /** Drops a worker's open cycle (its transaction aborted, its rows forgotten) and closes its producer. */
  const retire = async (worker: PartitionWorker) => {
    await worker.serial.run(() => worker.abandon());
    await worker.close().catch((error) => log.debug(`partition ${worker.partition}: closing its producer: ${(error as Error).message}`));
  };

  /**
   * A fresh worker for `partition` once `after` settles (the old workers retired). Its producer
   * cannot start while the brokers are away (a partition restarted mid-outage): within
   * kafka.retry_limit it is started again, so the run rides out the outage as it would elsewhere.
   */
  const startWorker = (partition: number, after: Promise<unknown>) => {
    const started = after.then(() => startPartitionWorker(kafka, settings, partition, { readCommittedOffset: readCommitted(partition), counters, readUpTo, partitionCounts }));
    workers.set(partition, started);
    started.catch((error) => {
      if (stopping || workers.get(partition) !== started) return;
      if (!partitionRestarts.allow(error)) return fail(error);
      log.warn(`partition ${partition}: ${(error as Error).message}; trying again in ${WORKER_START_PAUSE_MS / 1000} s`);
      startWorker(partition, Bun.sleep(WORKER_START_PAUSE_MS));
    });
  };

  /** Rebalance: every open cycle is dropped (kafkajs restarts each assigned partition from its committed offset). */
  const reassign = (partitions: number[]) => {
    const previous = [...workers.values()];
    workers.clear();
    const teardown = Promise.all(
      previous.map(async (pending) => {
        const worker = await pending.catch(() => undefined);
        if (worker) await retire(worker);
      }),
    );
    for (const partition of partitions) startWorker(partition, teardown);
    log.info(`assigned partitions [${partitions.join(", ")}] of ${topic}`);
  };

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    restarts.recovered();
    reassign(event.payload.memberAssignment[topic] ?? []);
  });
  // A fetch made only of records read_committed filters out (control markers, aborted
  // transactions) never reaches eachBatch; kafkajs reports it with batchSize 0 here. Its span
  // moves the worker's position, so the committed offset can reach an end offset that lies past
  // a final marker. Batches with data are handled in eachBatch alone.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== topic || payload.batchSize > 0 || stopping) return;
    const pending = workers.get(payload.partition);
    // Queued behind the worker's start like a batch (kafkajs has already moved past this span).
    pending
      ?.then(
        (worker) =>
          worker.serial
            .run(async () => {
              if (stopping || workers.get(payload.partition) !== pending || worker.broken) return;
              await worker.process([], { firstOffset: payload.firstOffset, lastOffset: payload.lastOffset });
              if (targets && worker.nextOffset >= (targets.get(payload.partition) ?? 0n)) await worker.flushIfDue(Date.now(), true);
            })
            .catch((error) => (worker.broken ? restartBrokenPartitions() : fail(error))),
        () => undefined, // a failed start is handled by startWorker
      )
      .catch(fail);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) fail(event.payload.error);
  });

  const eachBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    highWatermarks.set(batch.partition, BigInt(batch.highWatermark));
    if (stopping || !isRunning() || isStale()) return;
    const pending = workers.get(batch.partition);
    if (!pending) return;
    // A worker that failed to start is being started again: this batch is fetched again for it.
    const worker = await pending.catch(() => undefined);
    if (!worker) return;
    let processed = false;
    let batchError: unknown;
    try {
      processed = await worker.serial.run(async () => {
        // A batch for a worker that was replaced (rebalance, partition restart) or cannot go on is
        // left unresolved: the partition is fetched again from where its new worker starts.
        if (stopping || workers.get(batch.partition) !== pending || worker.broken) return false;
        await worker.process(batch.messages, { firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() });
        if (targets && worker.nextOffset >= (targets.get(batch.partition) ?? 0n)) await worker.flushIfDue(Date.now(), true);
        return true;
      });
      await enforceMemoryBudget();
    } catch (error) {
      batchError = error;
    }
    // A cycle that failed retriably broke its worker (the error is that worker's `broken`): restart
    // that partition, and let kafkajs go on with the others (thrown back, kafkajs would retry this
    // batch on the broken worker). Any other error goes to kafkajs, which ends the run unless it is
    // retriable, also while another partition happens to be broken.
    const brokenBy = restartBrokenPartitions();
    if (batchError !== undefined && !brokenBy.some((error) => error === batchError)) throw batchError;
    // Moves kafkajs' fetch position only: offsets are committed by the partition's transaction.
    if (processed && batch.messages.length > 0) resolveOffset(batch.lastOffset());
    await heartbeat();
  };

  /** Restarts every partition whose worker is broken; returns the errors that broke them. */
  const restartBrokenPartitions = (): KafkaError[] => {
    const brokenBy: KafkaError[] = [];
    for (const [partition, pending] of workers) {
      const worker = startedWorker(pending);
      if (worker?.broken === undefined) continue;
      brokenBy.push(worker.broken);
      restartPartition(partition, worker);
    }
    return brokenBy;
  };

  /**
   * A cycle failed retriably (a broker restarting, a coordinator moving) and its worker is broken:
   * within kafka.retry_limit, the partition starts over from its committed offset with a fresh
   * worker, whose transactional producer settles the failed transaction first. The fetch position
   * is moved back before the new worker exists, so it never sees a batch from past its offset.
   */
  const restartPartition = (partition: number, failed: PartitionWorker) => {
    const current = workers.get(partition);
    if (stopping || current === undefined || startedWorker(current) !== failed) return;
    if (!partitionRestarts.allow(failed.broken)) return fail(failed.broken);
    log.warn(`partition ${partition}: ${failed.broken!.message}; starting the partition again from offset ${failed.committedOffset}`);
    consumer.seek({ topic, partition, offset: failed.committedOffset.toString() });
    startWorker(partition, retire(failed));
  };

  /** Past max_buffered_rows across partitions, the fullest partition ends its cycle early. */
  const enforceMemoryBudget = async () => {
    const ready = [...workers.values()].map(startedWorker).filter((w): w is PartitionWorker => w !== undefined);
    let total = ready.reduce((sum, worker) => sum + worker.bufferedRows, 0);
    while (total > settings.maxBufferedRows) {
      const fullest = ready.reduce((a, b) => (b.bufferedRows > a.bufferedRows ? b : a));
      const rows = fullest.bufferedRows;
      if (rows === 0) return;
      await fullest.serial.run(() => fullest.flushIfDue(Date.now(), true));
      total -= rows;
    }
  };

  const progress = createProgress({ label: "cleaned", plainEverySeconds: 10 });
  let checkingCaughtUp = false;
  const tick = setInterval(() => {
    const now = Date.now();
    if (counters.commits !== commitsSeen) {
      commitsSeen = counters.commits;
      partitionRestarts.recovered();
    }
    for (const pending of workers.values()) {
      pending
        .then(
          (worker) => worker.serial.run(() => worker.flushIfDue(now)).catch((error) => (worker.broken ? restartBrokenPartitions() : fail(error))),
          () => undefined, // a failed start is handled by startWorker
        )
        .catch(fail);
    }
    progress.update({ records: counters.read, extra: { "dead letters": counters.dead_lettered, lag: lag(workers, highWatermarks) } });
    if (targets && !stopping && !checkingCaughtUp) {
      // One check at a time: the admin round trips can take longer than a tick.
      checkingCaughtUp = true;
      caughtUp(admin, settings.groupId, topic, targets)
        .then(
          (done) => {
            adminFailures.recovered();
            if (done) finish("caught-up");
          },
          // A coordinator moving (its broker died) is retriable: ask again next tick, within the limit.
          (error) => (adminFailures.allow(error) ? log.debug(`caught-up check: ${(error as Error).message}`) : fail(error)),
        )
        .finally(() => {
          checkingCaughtUp = false;
        });
    }
  }, TICK_MS);

  const onSignal = () => finish("signal");
  shutdownSignal.addEventListener("abort", onSignal, { once: true });
  if (shutdownSignal.aborted) finish("signal");

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
  } catch (error) {
    fail(toKafkaError(error, "cannot start the consumer", { topic, group: settings.groupId }));
  }

  const stoppedBy = await finished;
  stopping = true;
  clearInterval(tick);
  shutdownSignal.removeEventListener("abort", onSignal);
  progress.done();

  // Graceful stop: commit what is processed (unless the run failed), then leave the group.
  const current = [...workers.values()];
  for (const pending of current) {
    const worker = await pending.catch(() => undefined);
    if (!worker) continue;
    if (failure === undefined) {
      await worker.serial.run(() => worker.flushIfDue(Date.now(), true)).catch(fail);
    } else {
      await worker.serial.run(() => worker.abandon());
    }
  }
  await consumer.disconnect().catch((error) => log.debug(`consumer disconnect: ${(error as Error).message}`));
  for (const pending of current) {
    const worker = await pending.catch(() => undefined);
    await worker?.close().catch(() => undefined);
  }
  await admin.disconnect();
  if (failure !== undefined) throw failure instanceof KstreamError ? failure : toKafkaError(failure, "stream-clean failed", { topic });

  const seconds = (performance.now() - startedAt) / 1000;
  return {
    ...counters,
    group: settings.groupId,
    topic,
    seconds,
    records_per_second: Math.round(counters.read / Math.max(seconds, 1e-3)),
    stopped_by: stoppedBy,
  };
}

async function connectAdmin(admin: Admin, topic: string): Promise<void> {
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) throw new KafkaError(`input topic ${topic} does not exist (kstream produce creates it)`, { context: { topic } });
  } catch (error) {
    await admin.disconnect();
    throw toKafkaError(error, "cannot reach the brokers", { topic });
  }
}

/** The last stable offsets (see kafka/offsets.ts): what a read_committed consumer can reach. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map([...(await partitionBounds(admin, topic))].map(([partition, { end }]) => [partition, end]));
}

/** True once the group has committed, on every partition, the end offsets seen at start. */
async function caughtUp(admin: Admin, groupId: string, topic: string, targets: Map<number, bigint>): Promise<boolean> {
  const committed = await committedOffsets(admin, groupId, topic);
  return [...targets].every(([partition, target]) => (committed.get(partition) ?? 0n) >= target);
}

function lag(workers: Map<number, Promise<PartitionWorker>>, highWatermarks: Map<number, bigint>): number {
  let total = 0n;
  for (const [partition, high] of highWatermarks) {
    const worker = startedWorker(workers.get(partition));
    if (!worker) continue;
    const behind = high - worker.nextOffset;
    if (behind > 0n) total += behind;
  }
  return Number(total);
}

/** The worker a start promise resolved to; undefined while it is starting or when it failed to start. */
function startedWorker(pending: Promise<PartitionWorker> | undefined): PartitionWorker | undefined {
  if (pending === undefined || Bun.peek.status(pending) !== "fulfilled") return undefined;
  return Bun.peek(pending) as PartitionWorker;
}

/** Staging messages and dead letters are partitioned by kstream itself (see partition-worker.ts), so it needs the counts. */
async function partitionCount(admin: Admin, topic: string): Promise<number> {
  try {
    const count = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new KafkaError(`topic ${topic} has no partitions`, { context: { topic } });
    return count;
  } catch (error) {
    throw toKafkaError(error, "cannot read the partitions of the topic", { topic });
  }
}
