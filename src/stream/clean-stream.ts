/**
 * The stream-clean job: a kafkajs consumer group on the input topic whose partitions each get a
 * PartitionCycle (clean → Parquet + staging/dead letters → one transaction with the consumer
 * offset). This file is the wiring: the admin and the consumer, the batch handler, and the run's
 * start and end. The concerns it wires live apart: membership.ts (assignments, restarts) over
 * slots.ts (per-partition starts), clock.ts (age-based ends, the caught-up check),
 * memory-budget.ts, graceful-stop.ts; with `--serve`, the process's own metrics and health
 * (stream-metrics.ts, health.ts, serve.ts) are read from the same state.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { describeError, KafkaError, KstreamError, WorkerError } from "../errors.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { committedOffsets, partitionBounds } from "../kafka/offsets.ts";
import { boundedRetries, retryWhileRetriable } from "../kafka/retry.ts";
import { ensureTopics } from "../kafka/topics.ts";
import type { Listening, ServeAddress } from "../prometheus/listen.ts";
import { log } from "../ui/log.ts";
import { createProgress } from "../ui/progress.ts";
import { shutdownSignal } from "../ui/shutdown.ts";
import { TICK_MS, allCommitted, caughtUpPoll, commitWatch, fetchWaitMs, lag, reachedTarget, startClock } from "./clock.ts";
import { RunStop, type StoppedBy, stopGracefully } from "./graceful-stop.ts";
import { type GroupView, judgeHealth, partitionViews } from "./health.ts";
import { type Membership, createMembership } from "./membership.ts";
import { enforceMemoryBudget } from "./memory-budget.ts";
import type { PartitionCycle } from "./partition-cycle.ts";
import { startPartitionWorker } from "./partition-worker.ts";
import { createLocalCleaner, type PartitionCleaner } from "./cleaner.ts";
import { startCleanPool } from "./clean-pool.ts";
import { createPartitionSink } from "./partition-sink.ts";
import { serveStream } from "./serve.ts";
import { Slots } from "./slots.ts";
import { createStreamMetrics, type StreamMetrics } from "./stream-metrics.ts";
import type { OutputPartitions, StreamCounters, StreamSettings } from "./types.ts";

export interface CleanStreamOptions {
  /** Stop once everything up to the end offsets seen at start is committed (by the whole group). */
  readonly untilCaughtUp: boolean;
  /** Serve /metrics and /healthz there while the run lasts (listening before anything connects). */
  readonly serve?: ServeAddress;
}

export interface CleanStreamSummary extends StreamCounters {
  group: string;
  topic: string;
  seconds: number;
  records_per_second: number;
  stopped_by: StoppedBy;
}

/** Pause before starting a partition's worker again after its producer could not start. */
const WORKER_START_PAUSE_MS = 1_000;

/** The state of a run that its metrics and health are read from. */
interface RunState {
  readonly counters: StreamCounters;
  readonly slots: Slots<PartitionCycle>;
  readonly highWatermarks: Map<number, bigint>;
  readonly stop: RunStop;
  readonly metrics: StreamMetrics;
  group: GroupView;
  /** When the consumer's last fetch was answered (Date.now), for health. */
  lastFetchAt: number | undefined;
}

export async function runCleanStream(kafka: Kafka, settings: StreamSettings, options: CleanStreamOptions): Promise<CleanStreamSummary> {
  const counters: StreamCounters = { read: 0, read_again: 0, cleaned: 0, dead_lettered: 0, files: 0, commits: 0 };
  const slots = new Slots<PartitionCycle>();
  const highWatermarks = new Map<number, bigint>();
  const metrics = createStreamMetrics({ counters, cycles: () => slots.ready(), highWatermarks, memory: () => process.memoryUsage() });
  const run: RunState = { counters, slots, highWatermarks, stop: new RunStop(), metrics, group: { state: "joining" }, lastFetchAt: undefined };
  const server = options.serve && serveRun(options.serve, run, settings.fileMaxAgeMs);
  try {
    return await cleanStream(kafka, settings, options, run);
  } finally {
    await server?.stop();
  }
}

function serveRun(address: ServeAddress, run: RunState, fileMaxAgeMs: number): Listening {
  const health = () => {
    const now = Date.now();
    const sinceLastFetchMs = run.lastFetchAt === undefined ? {} : { sinceLastFetchMs: now - run.lastFetchAt };
    return judgeHealth({ fileMaxAgeMs, stopping: run.stop.stopping, group: run.group, ...sinceLastFetchMs, partitions: partitionViews(run.slots.all(), now) });
  };
  const server = serveStream(address, run.metrics, health);
  log.info(`serving ${server.url}/metrics and ${server.url}/healthz`);
  return server;
}

async function cleanStream(kafka: Kafka, settings: StreamSettings, options: CleanStreamOptions, run: RunState): Promise<CleanStreamSummary> {
  const { counters, slots, highWatermarks, stop } = run;
  const topic = settings.inputTopic;
  const readUpTo = new Map<number, bigint>();
  const startedAt = performance.now();
  const admin = kafka.admin();
  const partitionCounts = await prepareTopics(admin, settings);
  const targets = options.untilCaughtUp ? await endOffsets(admin, topic) : undefined;

  const cleaners = cleanersFor(settings, partitionCounts);
  try {
    return await consumeGroup(kafka, settings, options, run, { admin, partitionCounts, targets, readUpTo, startedAt, cleanerFor: cleaners.cleanerFor });
  } finally {
    cleaners.close();
  }
}

interface GroupSetup {
  readonly admin: Admin;
  readonly partitionCounts: OutputPartitions;
  readonly targets: ReadonlyMap<number, bigint> | undefined;
  readonly readUpTo: Map<number, bigint>;
  readonly startedAt: number;
  readonly cleanerFor: (partition: number) => PartitionCleaner;
}

/**
 * Cleaners for the run's cycles: through clean workers (clean.workers > 0), else in this thread.
 * `close` ends the workers at the run's end.
 */
function cleanersFor(settings: StreamSettings, partitionCounts: OutputPartitions): { cleanerFor: (partition: number) => PartitionCleaner; close(): void } {
  const { inputTopic: topic, rules, compression, store } = settings;
  if (settings.workers === 0) {
    return {
      cleanerFor: (partition) =>
        createLocalCleaner({ sink: createPartitionSink({ store, topic, partition, compression }), partition, rules, stagingPartitions: partitionCounts.staging }),
      close() {},
    };
  }
  const pool = startCleanPool(settings.workers);
  return { cleanerFor: (partition) => pool.cleanerFor({ topic, partition, rules, compression, stagingPartitions: partitionCounts.staging }, store), close: () => pool.close() };
}

async function consumeGroup(kafka: Kafka, settings: StreamSettings, options: CleanStreamOptions, run: RunState, setup: GroupSetup): Promise<CleanStreamSummary> {
  const { counters, slots, highWatermarks, stop } = run;
  const topic = settings.inputTopic;
  const { admin, partitionCounts, targets, readUpTo, startedAt } = setup;
  const restarts = boundedRetries(settings.retryLimitMs);
  const consumer = createConsumer(kafka, settings, restarts, fetchWaitMs(options.untilCaughtUp));
  /** Partition restarts after a failed cycle or start; a commit anywhere since means the trouble is over. */
  const partitionRestarts = boundedRetries(settings.retryLimitMs);
  const readCommittedOffset = (partition: number) => async () =>
    (await retryWhileRetriable(() => committedOffsets(admin, settings.groupId, topic, undefined, settings.retryLimitMs), settings.retryLimitMs)).get(partition) ?? 0n;
  const membership = createMembership({
    slots,
    startWorker: (partition) => startPartitionWorker(kafka, settings, partition, {
        readCommittedOffset: readCommittedOffset(partition),
        counters,
        readUpTo,
        partitionCounts,
        events: run.metrics.events,
        cleanerFor: setup.cleanerFor,
      }),
    seek: (partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
    pause: (partition) => consumer.pause([{ topic, partitions: [partition] }]),
    resume: (partition) => consumer.resume([{ topic, partitions: [partition] }]),
    restarts: partitionRestarts,
    stopping: () => stop.stopping,
    fail: (error) => stop.fail(error),
    startPauseMs: WORKER_START_PAUSE_MS,
    fencedPauseMs: settings.sessionTimeoutMs,
  });

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    restarts.recovered();
    run.group = { state: "member" };
    run.lastFetchAt = Date.now();
    const partitions = event.payload.memberAssignment[topic] ?? [];
    membership.assign(partitions);
    log.info(`assigned partitions [${partitions.join(", ")}] of ${topic}`);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) stop.fail(event.payload.error);
    else run.group = { state: "rejoining", error: describeError(event.payload.error) };
  });
  consumer.on(consumer.events.FETCH, () => {
    run.lastFetchAt = Date.now();
  });

  const progress = createProgress({ label: "cleaned", plainEverySeconds: 10 });
  const adminFailures = boundedRetries(settings.retryLimitMs);
  const pollCaughtUp = caughtUpPoll({
    check: async () => allCommitted(targets!, await committedOffsets(admin, settings.groupId, topic, undefined, settings.retryLimitMs)),
    failures: adminFailures,
    onCaughtUp: () => stop.finish("caught-up"),
    onRetry: (error) => log.debug(`caught-up check: ${(error as Error).message}`),
    fail: (error) => stop.fail(error),
  });
  // A partition committed up to its target: check at once rather than at the next tick.
  const targetReached = () => {
    if (!stop.stopping) pollCaughtUp();
  };
  const eachBatch = batchHandler({ slots, membership, stop, targets, highWatermarks, maxBufferedRows: settings.maxBufferedRows, targetReached });
  consumer.on(consumer.events.END_BATCH_PROCESS, hiddenOnlyFetchHandler({ topic, slots, membership, stop, targets, targetReached }));
  const noticeCommits = commitWatch(() => counters.commits, () => partitionRestarts.recovered());
  const stopClock = startClock({
    everyMs: TICK_MS,
    cycles: () => slots.ready(),
    onFlushFailure: (cycle, error) => (cycle.broken || cycle.fenced ? membership.restartBroken() : stop.fail(error)),
    onTick: () => {
      noticeCommits();
      progress.update({ records: counters.read, extra: { "dead letters": counters.dead_lettered, lag: lag(highWatermarks, (partition) => slots.get(partition)?.worker?.offsetToCommit) } });
      if (targets && !stop.stopping) pollCaughtUp();
    },
  });

  const onSignal = () => stop.finish("signal");
  shutdownSignal.addEventListener("abort", onSignal, { once: true });
  if (shutdownSignal.aborted) stop.finish("signal");

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
  } catch (error) {
    stop.fail(toKafkaError(error, "cannot start the consumer", { topic, group: settings.groupId }));
  }

  const stoppedBy = await stop.stopped();
  stopClock();
  shutdownSignal.removeEventListener("abort", onSignal);
  progress.done();
  await stopGracefully(slots.all(), stop, () => consumer.disconnect().catch((error) => log.debug(`consumer disconnect: ${(error as Error).message}`)));
  await admin.disconnect();
  if (stop.failure !== undefined) throw stop.failure instanceof KstreamError ? stop.failure : toKafkaError(stop.failure, "stream-clean failed", { topic });

  const seconds = (performance.now() - startedAt) / 1000;
  return { ...counters, group: settings.groupId, topic, seconds, records_per_second: Math.round(counters.read / Math.max(seconds, 1e-3)), stopped_by: stoppedBy };
}

interface BatchContext {
  readonly slots: Slots<PartitionCycle>;
  readonly membership: Membership<PartitionCycle>;
  readonly stop: RunStop;
  readonly targets: ReadonlyMap<number, bigint> | undefined;
  readonly highWatermarks: Map<number, bigint>;
  readonly maxBufferedRows: number;
  /** Called after a partition's cycle committed up to its target (until caught up). */
  readonly targetReached: () => void;
}

/** A cycle that reached its partition's target (until caught up) commits now, and the caught-up check runs. */
async function commitAtTarget(cycle: PartitionCycle, partition: number, context: Pick<BatchContext, "targets" | "targetReached">): Promise<void> {
  if (!reachedTarget(context.targets, partition, cycle.offsetToCommit)) return;
  await cycle.flushIfDue(Date.now(), true);
  context.targetReached();
}

/** kafkajs' eachBatch: hands one partition's batch to its current cycle. */
function batchHandler(context: BatchContext) {
  const { slots, membership, stop, highWatermarks } = context;
  return async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    highWatermarks.set(batch.partition, BigInt(batch.highWatermark));
    if (stop.stopping || !isRunning() || isStale()) return;
    const slot = slots.get(batch.partition);
    if (!slot) return;
    // A worker that failed to start is being started again: this batch is fetched again for it.
    const cycle = await slot.settled;
    if (!cycle) return;
    let processed = false;
    let batchError: unknown;
    try {
      processed = await cycle.serial.run(async () => {
        // A batch for a cycle that was replaced (rebalance, partition restart) or cannot go on is
        // left unresolved: the partition is fetched again from where its new cycle starts.
        if (stop.stopping || !slots.isCurrent(slot) || cycle.broken || cycle.fenced) return false;
        await cycle.process(batch.messages, { firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() });
        await commitAtTarget(cycle, batch.partition, context);
        return true;
      });
      await enforceMemoryBudget(slots.ready(), context.maxBufferedRows);
    } catch (error) {
      batchError = error;
    }
    // A commit that failed retriably broke its cycle (the error is that cycle's `broken`), or was
    // fenced (`fenced`): restart or drop that partition, and let kafkajs go on with the others (thrown back, kafkajs would retry this
    // batch on the broken cycle). Any other error goes to kafkajs, which ends the run unless it is
    // retriable, also while another partition happens to be broken.
    // A clean worker that failed serves no cycle any more: the run ends with its error as it is.
    if (batchError instanceof WorkerError) {
      stop.fail(batchError);
      return;
    }
    const brokenBy = membership.restartBroken();
    if (batchError !== undefined && !brokenBy.some((error) => error === batchError)) throw batchError;
    // Moves kafkajs' fetch position only: offsets are committed by the partition's transaction.
    if (processed && batch.messages.length > 0) resolveOffset(batch.lastOffset());
    await heartbeat();
  };
}

/**
 * A fetch made only of records read_committed filters out (control markers, aborted
 * transactions) never reaches eachBatch; kafkajs reports it with batchSize 0 in END_BATCH_PROCESS.
 * Its span still moves the cycle's position (fetch-position.ts), so the committed offset can reach
 * an end offset that lies past a final marker. Batches with data are handled in eachBatch alone.
 */
function hiddenOnlyFetchHandler(context: Pick<BatchContext, "slots" | "membership" | "stop" | "targets" | "targetReached"> & { topic: string }) {
  const { topic, slots, membership, stop } = context;
  return ({ payload }: { payload: { topic: string; partition: number; batchSize: number; firstOffset: string | null; lastOffset: string } }) => {
    if (payload.topic !== topic || payload.batchSize > 0 || stop.stopping) return;
    const slot = slots.get(payload.partition);
    if (!slot) return;
    // Queued behind the cycle's start like a batch (kafkajs has already moved past this span).
    void slot.settled.then(async (cycle) => {
      if (!cycle) return;
      try {
        await cycle.serial.run(async () => {
          if (stop.stopping || !slots.isCurrent(slot) || cycle.broken || cycle.fenced) return;
          await cycle.process([], { firstOffset: payload.firstOffset, lastOffset: payload.lastOffset });
          await commitAtTarget(cycle, payload.partition, context);
        });
      } catch (error) {
        if (cycle.broken || cycle.fenced) membership.restartBroken();
        else stop.fail(error);
      }
    });
  };
}

function createConsumer(kafka: Kafka, settings: StreamSettings, restarts: { allow(error: unknown): boolean }, maxWaitTimeInMs: number): Consumer {
  return kafka.consumer({
    groupId: settings.groupId,
    readUncommitted: false,
    maxWaitTimeInMs,
    // Fetch sizes count compressed bytes: a zstd batch of JSON records expands five to ten times
    // when decoded, and a fetch's records all live until its batches are processed. 512 KiB per
    // partition and 2 MiB per fetch keep a compressed topic's decoded fetches within the memory
    // bound (stream-clean's peak RSS under 300 MB) and cost nothing measurable on a plain one.
    maxBytesPerPartition: 512 * 1024,
    maxBytes: 2 * 1024 * 1024,
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
}

/** Connects the admin, checks the input topic, creates the output topics and reads their partition counts. */
export async function prepareTopics(admin: Admin, settings: Pick<StreamSettings, "inputTopic" | "stagingTopic" | "deadLetterTopic" | "topicLayout" | "retryLimitMs">): Promise<OutputPartitions> {
  const topic = settings.inputTopic;
  await connectAdmin(admin, topic);
  try {
    // A broker that just started may answer "does not host this topic-partition" for a while (its
    // logs still loading): retriable, like produce's preparation, for up to kafka.retry_limit.
    return await retryWhileRetriable(async () => {
      await ensureTopics(admin, [settings.stagingTopic, settings.deadLetterTopic], settings.topicLayout, { input: topic, deadLetter: settings.deadLetterTopic });
      return { staging: await partitionCount(admin, settings.stagingTopic), deadLetter: await partitionCount(admin, settings.deadLetterTopic) };
    }, settings.retryLimitMs);
  } catch (error) {
    await admin.disconnect();
    throw error;
  }
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

/** Staging messages and dead letters are partitioned by kstream itself (see partition-cycle.ts), so it needs the counts. */
async function partitionCount(admin: Admin, topic: string): Promise<number> {
  try {
    const count = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new KafkaError(`topic ${topic} has no partitions`, { context: { topic } });
    return count;
  } catch (error) {
    throw toKafkaError(error, "cannot read the partitions of the topic", { topic });
  }
}
