/**
 * The produce job: streams elements from the input reader onto the input topic through an
 * idempotent kafkajs producer (acks from all in-sync replicas, batched requests, one in flight
 * while the next batch is read), and records every acknowledged offset range in the ledger (or, when
 * the ledger is held by another process past ledger.lock_timeout, in its journal, and stops).
 */
import { type Message, type Producer, type RecordMetadata } from "kafkajs";
import { durationMs } from "../config/duration.ts";
import { describeError, InputSyntaxError, KafkaError, LedgerError } from "../errors.ts";
import { crashPoint } from "../faults.ts";
import { readElements, openInput } from "../input/index.ts";
import { KAFKA_CODEC_TYPES } from "../kafka/codecs.ts";
import { toKafkaError } from "../kafka/errors.ts";
import type { KafkaContext } from "../kafka/client.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, ensureTopics, kstreamTopics, topicLayout, topicMaxMessageBytes } from "../kafka/topics.ts";
import { SendIncompleteError, sendCompletely } from "../kafka/complete-send.ts";
import { retryWhileRetriable } from "../kafka/retry.ts";
import { DefaultPartitioner } from "../kafka/partitioner.ts";
import type { JournalEntry } from "../ledger/journal.ts";
import { type Acknowledgement, heartbeatEveryMs, type InDoubt, type Ledger, type Rejection, RUN_HEADER } from "../ledger/ledger.ts";
import { log } from "../ui/log.ts";
import { createProgress } from "../ui/progress.ts";
import { shutdownSignal } from "../ui/shutdown.ts";
import { dueAtMs, dueCount } from "./pace.ts";

export interface ProduceOptions {
  readonly source: string;
  readonly limit?: number | undefined;
  readonly dryRun?: boolean;
}

export interface ProduceSummary {
  run_id: string | null;
  producer: string;
  source: string;
  topic: string;
  status: "completed" | "failed" | "interrupted" | "dry-run";
  sent: number;
  rejected: number;
  bytes: number;
  seconds: number;
  records_per_second: number;
  /** The first rejected NDJSON lines, for the person reading the summary. */
  rejections: Rejection[];
  error?: string;
}

const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Room for what a record batch holds besides the key and value: the batch header (61 bytes), the
 * record's varints, the run header's name and value (a 36-character UUID), and 1 KiB for the
 * headers stream-clean adds to a dead letter (reason, message ≤ 200 characters, source topic,
 * partition, offset): a record produce publishes can always be dead-lettered to a topic with the
 * same limit, instead of becoming a poison pill that fails every stream-clean cycle.
 */
const RECORD_OVERHEAD_BYTES = 61 + 64 + RUN_HEADER.length + 36 + 1024;

/** Rejections echoed in the summary; all of them are counted, and the ledger keeps more. */
const SUMMARY_REJECTIONS = 20;

export async function produceRecords(
  context: KafkaContext,
  ledger: Ledger | undefined,
  options: ProduceOptions,
): Promise<ProduceSummary> {
  const { config } = context;
  const input = openInput(options.source);
  const runId = options.dryRun ? null : Bun.randomUUIDv7();
  const summary: ProduceSummary = {
    run_id: runId,
    producer: config.produce.name,
    source: input.name,
    topic: config.topics.input,
    status: options.dryRun ? "dry-run" : "completed",
    sent: 0,
    rejected: 0,
    bytes: 0,
    seconds: 0,
    records_per_second: 0,
    rejections: [],
  };
  const startedAt = performance.now();
  const progress = createProgress({ label: options.dryRun ? "parsed" : "produced", totalBytes: input.sizeBytes });
  const sink = options.dryRun ? undefined : await openSink(context, ledger!, { runId: runId!, source: input.name });

  const reject = (rejection: Rejection) => {
    summary.rejected++;
    if (summary.rejections.length < SUMMARY_REJECTIONS) summary.rejections.push(rejection);
    if (summary.rejected <= 5) log.warn(`${input.name}:${rejection.line}: rejected: ${rejection.reason}`);
    if (runId) ledger!.recordRejection(runId, rejection);
  };

  let accepted = 0;
  let batch: Message[] = [];
  let batchBytes = 0;
  try {
    for await (const item of readElements(input.stream, input.name)) {
      if (shutdownSignal.aborted) {
        summary.status = "interrupted";
        break;
      }
      if (item.kind === "rejected") {
        reject({ line: item.line, reason: item.reason });
        continue;
      }
      if (options.limit !== undefined && accepted >= options.limit) break;
      if (sink) {
        // A record the broker refuses would fail the whole request (and with it a run that has a
        // good prefix), and a 100 MB one is cut off by the broker's socket limit and retried until
        // kafka.retry_limit. Refused here instead, like a bad NDJSON line: counted, with its line.
        const size = oversize(item.json, item.key, item.bytes, sink.maxMessageBytes);
        if (size !== undefined) {
          reject({ line: item.line, reason: `the element is ${size} bytes, larger than the topic accepts (max.message.bytes ${sink.maxMessageBytes})` });
          continue;
        }
      }
      accepted++;
      summary.bytes += item.bytes;
      if (!sink) {
        summary.sent++;
      } else {
        // Each request is one record batch per partition: a big element goes in a request of its own
        // rather than on top of a nearly full one, so no batch passes the broker's limit (a
        // request refused for one partition is acknowledged for the others, but kafkajs reports
        // only the failure, and the ledger would miss what landed).
        if (batch.length > 0 && batchBytes + item.bytes > MAX_REQUEST_BYTES) {
          await sink.send(batch, startedAt);
          batch = [];
          batchBytes = 0;
        }
        batch.push({ key: item.key ?? null, value: item.json, headers: { [RUN_HEADER]: runId! } });
        batchBytes += item.bytes;
        const elapsed = performance.now() - startedAt;
        // Requests stay well under the broker's 1 MB record-batch limit, whatever the record size.
        if (
          batchBytes >= MAX_REQUEST_BYTES ||
          batch.length >= dueCount(summary.sent + sink.inFlight, elapsed, config.produce.rate, config.produce.batch_size)
        ) {
          await sink.send(batch, startedAt);
          batch = [];
          batchBytes = 0;
        }
      }
      progress.update({ records: accepted, bytes: summary.bytes, extra: summary.rejected ? { rejected: summary.rejected } : undefined });
    }
    if (sink && batch.length > 0) await sink.send(batch, startedAt);
    if (sink) await sink.drain();
  } catch (error) {
    summary.status = "failed";
    summary.error = error instanceof Error ? error.message : String(error);
    if (sink) {
      // Elements before a syntax error are valid: publish them, so the file's good prefix lands.
      if (error instanceof InputSyntaxError && batch.length > 0) await sink.send(batch, startedAt).catch(() => undefined);
      await sink.drain().catch(() => undefined);
    }
    throw error;
  } finally {
    progress.done();
    if (sink) {
      summary.sent = sink.acknowledged;
      await sink.close(summary.status as "completed" | "failed" | "interrupted", summary.error);
    }
    summary.seconds = (performance.now() - startedAt) / 1000;
    summary.records_per_second = Math.round(summary.sent / Math.max(summary.seconds, 1e-3));
  }
  return summary;
}

/**
 * The size of an element's record when it is more than `limit` bytes, else undefined. Its bytes in
 * the file (`sourceBytes`, white space included) bound both the value's and the key's UTF-8 size,
 * so only big elements are measured.
 */
function oversize(json: string, key: string | undefined, sourceBytes: number, limit: number): number | undefined {
  if (2 * sourceBytes + RECORD_OVERHEAD_BYTES <= limit) return undefined;
  const size = Buffer.byteLength(json, "utf8") + (key === undefined ? 0 : Buffer.byteLength(key, "utf8")) + RECORD_OVERHEAD_BYTES;
  return size > limit ? size : undefined;
}

interface Sink {
  /** The largest record the input topic takes (its max.message.bytes). */
  readonly maxMessageBytes: number;
  /** Messages handed to the producer and not yet acknowledged. */
  readonly inFlight: number;
  readonly acknowledged: number;
  send(messages: Message[], startedAt: number): Promise<void>;
  drain(): Promise<void>;
  close(status: "completed" | "failed" | "interrupted", error?: string): Promise<void>;
}

/**
 * Sends one request while the caller reads the next batch: at most one request in flight keeps
 * the idempotent producer's sequence numbers simple and still overlaps parsing with the network.
 * Partitions are chosen here (Kafka's murmur2 partitioner) so each acknowledgement's base offset
 * maps to a known message count per partition: that is what the ledger records.
 */
async function openSink(
  context: KafkaContext,
  ledger: Ledger,
  { runId, source }: { runId: string; source: string },
): Promise<Sink> {
  const { config } = context;
  const topic = config.topics.input;
  const brokers = config.kafka.brokers.join(",");
  const admin = context.kafka.admin();
  let partitionMetadata;
  let startOffsets = new Map<number, number>();
  let maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  try {
    await admin.connect();
    // On a cluster, a topic just created may not be known to every broker yet: retriable.
    [partitionMetadata, startOffsets] = await retryWhileRetriable(async () => {
      await ensureTopics(admin, kstreamTopics(config), topicLayout(config), { input: topic, deadLetter: config.topics.dead_letter });
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
      // Where this run's messages can start, per partition: where recon looks for a request in doubt.
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, Number(entry.high)]));
      return [partitions, ends] as const;
    }, durationMs(config.kafka.retry_limit));
    maxMessageBytes = await topicMaxMessageBytes(admin, topic);
  } catch (error) {
    throw toKafkaError(error, "cannot prepare the input topic", { brokers, topic });
  } finally {
    await admin.disconnect();
  }
  const partitioner = DefaultPartitioner();
  const producer: Producer = context.kafka.producer({
    createPartitioner: DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: context.retry,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw toKafkaError(error, "cannot connect the producer", { brokers });
  }
  ledger.startRun({ id: runId, producer: config.produce.name, source, topic });
  // Alive, for recon: a run that says running with no heartbeat for ledger.heartbeat_timeout was killed.
  const heartbeat = setInterval(() => {
    try {
      ledger.beat(runId);
    } catch (error) {
      // Harmless once: the next beat comes long before the timeout, and an acknowledgement that
      // cannot be written ends the run with its own error.
      log.debug(`ledger heartbeat: ${describeError(error)}`);
    }
  }, heartbeatEveryMs(durationMs(config.ledger.heartbeat_timeout)));
  heartbeat.unref();
  const compression = KAFKA_CODEC_TYPES[config.produce.compression];

  let pending: Promise<void> | undefined;
  let inFlight = 0;
  let acknowledged = 0;
  /** Acknowledged by the broker, not yet in the ledger. */
  const unrecorded: Acknowledgement[] = [];
  /** The last offset acknowledged to this run, per partition. */
  const lastAcked = new Map<number, number>();
  /** Where the run's next message on a partition can be, at the earliest: where recon looks for a request in doubt. */
  const earliestNext = (partition: number) => {
    const after = lastAcked.get(partition);
    return after === undefined ? (startOffsets.get(partition) ?? 0) : after + 1;
  };
  /** Sent in a request that got no answer: recorded again when the run ends (recon may have settled its first row), settled by recon. */
  const inDoubt: InDoubt[] = [];

  const sendNow = async (messages: Message[]) => {
    const counts = new Map<number, number>();
    for (const message of messages) {
      const partition = partitioner({ topic, partitionMetadata, message });
      message.partition = partition;
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
    // In doubt until its answer is recorded: a producer killed (kill -9) after the request landed
    // and before the answer was written leaves this row, and recon finds the records on the topic.
    ledger.recordInDoubt(
      runId,
      [...counts].map(([partition, count]) => ({ topic, partition, from_offset: earliestNext(partition), count })),
    );
    const owe = (results: RecordMetadata[]) => {
      const acks = results
        .map((result) => ({ partition: result.partition, firstOffset: Number(result.baseOffset), count: counts.get(result.partition) ?? 0 }))
        .filter((ack) => ack.count > 0);
      // The broker has them, whatever the ledger says next: they are acknowledged, and owed to the ledger.
      for (const ack of acks) {
        acknowledged += ack.count;
        lastAcked.set(ack.partition, ack.firstOffset + ack.count - 1);
      }
      unrecorded.push(...acks);
    };
    try {
      crashPoint("before-send");
      const results = await sendCompletely((topicMessages) => producer.sendBatch({ topicMessages, acks: -1, compression }), [{ topic, messages }]);
      crashPoint("answer-lost");
      owe(results);
    } catch (error) {
      // What was answered before the failure is counted; the rest may or may not have landed (the
      // brokers went away with the request): kept as in doubt, for recon to look up on the topic.
      const answered = error instanceof SendIncompleteError ? error.answered : [];
      owe(answered);
      const answeredPartitions = new Set(answered.map((result) => result.partition));
      for (const [partition, count] of counts) {
        if (!answeredPartitions.has(partition)) inDoubt.push({ topic, partition, from_offset: earliestNext(partition), count });
      }
      const failure = toKafkaError(error instanceof SendIncompleteError ? error.cause : error, "produce failed", { brokers, topic });
      const doubtful = inDoubt.reduce((sum, entry) => sum + entry.count, 0);
      if (doubtful === 0) throw failure;
      throw new KafkaError(`${failure.message}; ${doubtful} records sent without an answer are in doubt (kstream recon looks for them on the topic)`, {
        context: failure.context,
        cause: error,
        retriable: failure.retriable,
      });
    }
    recordOwed();
  };

  /** Records what is owed in one transaction; a failure (the ledger locked past its timeout) keeps it all owed. */
  const recordOwed = () => {
    if (unrecorded.length === 0) return;
    ledger.recordAcks(runId, topic, unrecorded);
    unrecorded.length = 0;
  };

  /**
   * The run's last ledger writes: what is still owed (tried once more, for another lock_timeout)
   * and the final status. What the database will not take goes to its journal, and the run fails
   * with one line that says where the records are kept: none is ever left uncounted.
   */
  const settleLedger = (status: "completed" | "failed" | "interrupted", error: string | undefined) => {
    let failure: unknown;
    let doubtRecorded = false;
    try {
      recordOwed();
      if (inDoubt.length > 0) ledger.recordInDoubt(runId, inDoubt);
      doubtRecorded = true;
      ledger.finishRun(runId, status, error);
      return;
    } catch (caught) {
      failure = caught;
    }
    const owed = unrecorded.reduce((sum, ack) => sum + ack.count, 0);
    const reason = describeError(failure);
    const entries: JournalEntry[] = [
      ...unrecorded.map((ack) => ({ kind: "ack" as const, run_id: runId, topic, partition: ack.partition, first_offset: ack.firstOffset, count: ack.count })),
      ...(doubtRecorded ? [] : inDoubt.map((entry) => ({ kind: "in-doubt" as const, run_id: runId, ...entry }))),
      { kind: "finish", run_id: runId, status, finished_at: new Date().toISOString(), error: error ?? reason },
    ];
    let kept: string;
    try {
      kept = ledger.keepForLater(entries);
    } catch (journalError) {
      const ranges = unrecorded.map((ack) => `partition ${ack.partition} offsets ${ack.firstOffset}-${ack.firstOffset + ack.count - 1}`).join(", ");
      throw new LedgerError(
        `${reason}; its journal cannot be written either (${(journalError as NodeJS.ErrnoException).code ?? describeError(journalError)}): ` +
          `${owed} acknowledged records of run ${runId} on ${topic} are not counted${ranges ? `: ${ranges}` : ""}`,
        { cause: failure },
      );
    }
    throw new LedgerError(
      `${reason}; ${owed > 0 ? `${owed} acknowledged records and the run's status are` : "the run's status is"} kept in ${kept}, which the next kstream command that opens the ledger adds`,
      { cause: failure },
    );
  };

  return {
    maxMessageBytes,
    get inFlight() {
      return inFlight;
    },
    get acknowledged() {
      return acknowledged;
    },
    async send(messages, startedAt) {
      if (pending) await pending;
      const due = dueAtMs(acknowledged + messages.length - 1, config.produce.rate);
      const wait = startedAt + due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      inFlight = messages.length;
      pending = sendNow(messages).finally(() => {
        inFlight = 0;
      });
      // A failure surfaces on the next send or drain; keep it from becoming an unhandled rejection.
      pending.catch(() => undefined);
    },
    async drain() {
      if (pending) await pending;
    },
    async close(status, error) {
      clearInterval(heartbeat);
      try {
        settleLedger(status, error);
      } finally {
        await producer.disconnect();
      }
    },
  };
}
