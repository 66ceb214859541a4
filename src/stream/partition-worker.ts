/**
 * One input partition's share of stream-clean: cleans its batches, buffers the rows for Parquet,
 * sends staging messages and dead letters inside the partition's own Kafka transaction, and at
 * the end of each cycle makes the rows durable (Parquet files renamed into place) before it
 * commits the transaction together with the consumer offset. See README "Exactly once".
 *
 * A transactional producer per input partition (transactional id = group + topic + partition)
 * is what fences a zombie: whoever owns the partition next initialises the same id, which aborts
 * the old owner's open transaction and makes its later commits fail.
 */
import { rm } from "node:fs/promises";
import { type Kafka, type KafkaMessage, type Message, type Producer, type TopicMessages, type Transaction } from "kafkajs";
import { cleanMessage } from "../clean/record.ts";
import { stagingMessage } from "../clean/staging.ts";
import type { CleanRules } from "../clean/types.ts";
import type { KafkaError } from "../errors.ts";
import { crashPoint } from "../faults.ts";
import { KAFKA_CODEC_TYPES, type KafkaCodecName } from "../kafka/codecs.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { isRetriable } from "../kafka/retry.ts";
import { sendCompletely } from "../kafka/complete-send.ts";
import { DefaultPartitioner, partitionForKey } from "../kafka/partitioner.ts";
import type { TopicLayout } from "../kafka/topics.ts";
import { log } from "../ui/log.ts";
import { deadLetterMessage } from "./dead-letter.ts";
import type { ParquetCompression } from "./parquet-writer.ts";
import { createPartitionSink, type PartitionSink } from "./partition-sink.ts";
import { recoverPartition } from "./recovery.ts";
import { createSerial, type Serial } from "./serial.ts";

const MAX_TRANSACTION_TIMEOUT_MS = 15 * 60_000;
/**
 * Staging and dead-letter messages per send, in bytes: well under the broker's 1 MB batch limit,
 * and small because kafkajs groups a send's messages per partition with an array copy per
 * message (quadratic in the send's size): 64 kB sends cleaned 200k records ~17% faster than 256 kB.
 */
const MAX_SEND_BYTES = 64 * 1024;
const MAX_SENDS_IN_FLIGHT = 4;

export interface StreamSettings {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly stagingTopic: string;
  readonly deadLetterTopic: string;
  readonly parquetDir: string;
  /** Parquet page compression. */
  readonly compression: ParquetCompression;
  /** Compression of the batches sent to the staging and dead-letter topics. */
  readonly sendCompression: KafkaCodecName;
  readonly fileMaxRows: number;
  readonly maxBufferedRows: number;
  readonly fileMaxAgeMs: number;
  readonly sessionTimeoutMs: number;
  /** Partitions and replication of the staging and dead-letter topics when stream-clean creates them. */
  readonly topicLayout: TopicLayout;
  readonly rules: CleanRules;
  readonly retry: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** kafka.retry_limit: how long a retriable failure may last before the run gives up (exit 1). */
  readonly retryLimitMs: number;
}

/**
 * What one stream-clean process did. A record read again (its partition restarted or moved, so
 * an open cycle was dropped) counts in `read_again` only: `read`, `cleaned` and `dead_lettered`
 * count each input record once.
 */
export interface StreamCounters {
  read: number;
  read_again: number;
  cleaned: number;
  dead_lettered: number;
  files: number;
  commits: number;
}

/** What the workers of one process share. */
export interface WorkerContext {
  /** Read only after the producer is initialised: see startPartitionWorker. */
  readonly readCommittedOffset: () => Promise<bigint>;
  readonly counters: StreamCounters;
  /** Per input partition, the offset after the last record any worker of this process read: below it, a record is read again. */
  readonly readUpTo: Map<number, bigint>;
  /**
   * Messages get their partition here (murmur2 of the key, as kafkajs would), so kafkajs groups
   * them in one pass and sendCompletely can tell which partitions were acknowledged.
   */
  readonly partitionCounts: { staging: number; deadLetter: number };
}

export interface PartitionWorker {
  readonly partition: number;
  readonly serial: Serial;
  /** Next input offset to process; everything below it is processed (committed or in the open cycle). */
  readonly nextOffset: bigint;
  /** Rows of the open cycle held in memory. */
  readonly bufferedRows: number;
  /** Offset committed with the last transaction: everything below it is durable. */
  readonly committedOffset: bigint;
  /**
   * Why the worker cannot go on (a cycle failed retriably, its outcome unknown), or undefined. A
   * broken worker processes nothing more; its partition restarts from the committed offset.
   */
  readonly broken: KafkaError | undefined;
  /** Cleans and stages one fetched batch; returns once the batch is buffered and sent (not committed). */
  process(messages: KafkaMessage[]): Promise<void>;
  /** Ends the cycle if it is full or old enough (or `force`): Parquet first, then the transaction. */
  flushIfDue(now: number, force?: boolean): Promise<void>;
  /** Drops the open cycle (rebalance, failure): aborts the transaction, forgets buffered rows. */
  abandon(): Promise<void>;
  close(): Promise<void>;
}

export async function startPartitionWorker(kafka: Kafka, settings: StreamSettings, partition: number, context: WorkerContext): Promise<PartitionWorker> {
  const { readCommittedOffset, counters, readUpTo, partitionCounts } = context;
  const { inputTopic: topic } = settings;
  const producer: Producer = kafka.producer({
    transactionalId: `kstream-${settings.groupId}-${topic}-${partition}`,
    createPartitioner: DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    // A cycle lasts up to file_max_age; leave room for the Parquet write and the commit, within
    // the broker's default cap (transaction.max.timeout.ms, 15 minutes).
    transactionTimeout: Math.min(MAX_TRANSACTION_TIMEOUT_MS, Math.max(60_000, settings.fileMaxAgeMs * 2 + 30_000)),
    // The broker answers CONCURRENT_TRANSACTIONS while the previous commit's markers are being
    // written; retrying after 300 ms (kafkajs' default) would stall every cycle, 25 ms does not.
    retry: { ...settings.retry, initialRetryTime: 25 },
  });
  try {
    crashPoint("worker-start");
    await producer.connect();
    // Initialising the transactional id fences the previous owner and waits until the transaction
    // it left open is completed or aborted, so the committed offset read next is final. kafkajs
    // does that at the first transaction(), not at connect() (which gets an idempotent producer id
    // only): without this empty transaction the offset was read while a commit whose answer was
    // lost could still complete, and recovery deleted the files of a committed cycle.
    await (await producer.transaction()).abort();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw toKafkaError(error, "cannot start the transactional producer", { topic, partition });
  }

  let committedOffset: bigint;
  try {
    committedOffset = await readCommittedOffset();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw toKafkaError(error, "cannot read the committed offset", { topic, partition });
  }
  const recovery = await recoverPartition(settings.parquetDir, topic, partition, committedOffset);
  for (const file of recovery.deleted) log.warn(`removed ${file}: written but never committed (partition ${partition}, committed offset ${committedOffset})`);

  const sink: PartitionSink = createPartitionSink({ parquetDir: settings.parquetDir, topic, partition, compression: settings.compression });
  const serial = createSerial();
  let nextOffset = committedOffset;
  let committed = committedOffset;
  let transaction: Transaction | undefined;
  /** Set when a cycle failed in a way that needs a fresh producer: the worker takes no more work. */
  let broken: KafkaError | undefined;
  let cycleStartedAt = 0;
  let cycleMessages = 0;
  let sends: Promise<unknown>[] = [];
  let unacknowledged = 0;

  const beginCycle = async () => {
    try {
      transaction = await producer.transaction();
    } catch (error) {
      throw toKafkaError(error, "cannot begin a transaction", { topic, partition });
    }
    cycleStartedAt = Date.now();
    cycleMessages = 0;
    sends = [];
  };

  const endCycle = async () => {
    const open = transaction;
    if (!open) return;
    let written: string[] = [];
    try {
      await Promise.all(sends);
      crashPoint("before-rename");
      written = (await sink.flush()).map((file) => file.path);
      crashPoint("after-rename");
      await open.sendOffsets({
        consumerGroupId: settings.groupId,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset.toString() }] }],
      });
      crashPoint("in-transaction");
      await open.commit();
      crashPoint("after-commit");
    } catch (error) {
      // The offset as text: kafkajs logs the error it gets from eachBatch with JSON.stringify,
      // which throws on a bigint and would replace this error with "cannot serialize BigInt".
      const failure = toKafkaError(error, "cannot commit the cycle", { topic, partition, offset: nextOffset.toString() });
      transaction = undefined;
      if (isRetriable(error)) {
        // A broker restarting, a coordinator moving: the commit may even have reached the
        // coordinator before the connection closed (kafkajs sends EndTxn once, without retry), so
        // its outcome is unknown and the files stay. The worker is done: the next producer with
        // this transactional id completes or aborts the transaction, and recovery then keeps the
        // files if the offset was committed and removes them if not.
        broken = failure;
        throw failure;
      }
      // Refused for good (fenced by a new owner, a full disk): never committed. Remove the files
      // now rather than leave them to the next owner's recovery, which may already have run.
      await Promise.all(written.map((path) => rm(path, { force: true })));
      await open.abort().catch(() => undefined);
      throw failure;
    }
    transaction = undefined;
    committed = nextOffset;
    counters.files += written.length;
    counters.commits++;
    log.debug(`partition ${partition}: committed offset ${committed} (${cycleMessages} messages, ${written.length} files)`);
  };

  return {
    partition,
    serial,
    get nextOffset() {
      return nextOffset;
    },
    get committedOffset() {
      return committed;
    },
    get broken() {
      return broken;
    },
    get bufferedRows() {
      return sink.rowCount;
    },

    async process(messages) {
      if (broken) throw broken;
      let lastKey: string | undefined;
      let lastKeyPartition = 0;
      let staged: Message[] = [];
      let deadLetters: Message[] = [];
      let pendingBytes = 0;
      const sendPending = () => {
        const topicMessages: TopicMessages[] = [];
        if (staged.length > 0) topicMessages.push({ topic: settings.stagingTopic, messages: staged });
        if (deadLetters.length > 0) topicMessages.push({ topic: settings.deadLetterTopic, messages: deadLetters });
        if (topicMessages.length === 0) return;
        const open = transaction!;
        // One produce request at a time per transactional producer: kafkajs rolls a partition's
        // sequence numbers back when a request fails, and a second request already in flight would
        // then reuse them; the broker takes it for a duplicate of the first and drops it, while the
        // first is sent again (seen as 3 dead letters written twice and 3 lost when a leader was
        // killed mid-cycle). Cleaning still runs ahead while a send is in flight.
        const previous = sends.at(-1) ?? Promise.resolve();
        const send = previous.then(() => sendCompletely((pending) => open.sendBatch({ topicMessages: pending, acks: -1, compression: KAFKA_CODEC_TYPES[settings.sendCompression] }), topicMessages));
        // Awaited at the end of the cycle, where a failure aborts it; not an unhandled rejection here.
        send.catch(() => undefined);
        sends.push(send);
        unacknowledged++;
        send.finally(() => unacknowledged--).catch(() => undefined);
        staged = [];
        deadLetters = [];
        pendingBytes = 0;
      };
      // Below this offset a record was read before, by an earlier worker of this partition.
      const readBefore = readUpTo.get(partition) ?? 0n;
      for (const message of messages) {
        // Backpressure: cleaning outruns the transactional producer, and every message waiting
        // for its send holds memory. A few sends in flight keep the pipe full.
        if (unacknowledged >= MAX_SENDS_IN_FLIGHT) await Promise.race(sends.slice(-MAX_SENDS_IN_FLIGHT)).catch(() => undefined);
        const offset = BigInt(message.offset);
        // After a rebalance kafkajs may re-deliver from an older position: skip what is done.
        if (offset < nextOffset) continue;
        if (!transaction) await beginCycle();
        const firstRead = offset >= readBefore;
        const outcome = cleanMessage(message.value, { timestamp: Number(message.timestamp), partition, offset: message.offset }, settings.rules);
        if (outcome.kind === "row") {
          sink.append(outcome.row);
          const { key, value } = stagingMessage(outcome.row, settings.rules.windowMs);
          const bytes = value.length + 64;
          // A big message (a huge email, a near-1 MB dead letter) goes in a send of its own, not on
          // top of pending ones: together they would pass the broker's limit and fail the cycle.
          if (pendingBytes > 0 && pendingBytes + bytes > MAX_SEND_BYTES) sendPending();
          // One window key for long runs of records: its partition is hashed once per run.
          if (key !== lastKey) {
            lastKey = key;
            lastKeyPartition = partitionForKey(key, partitionCounts.staging);
          }
          staged.push({
            key,
            value,
            partition: lastKeyPartition,
            headers: { "kstream-source-partition": String(partition), "kstream-source-offset": message.offset },
          });
          pendingBytes += bytes;
          if (firstRead) counters.cleaned++;
        } else {
          const bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0) + 256;
          if (pendingBytes > 0 && pendingBytes + bytes > MAX_SEND_BYTES) sendPending();
          const deadLetter = deadLetterMessage(message, topic, partition, outcome.verdict);
          // Keyed like kafkajs would; a keyless one follows its source partition (deterministic).
          deadLetter.partition = message.key ? partitionForKey(message.key, partitionCounts.deadLetter) : partition % partitionCounts.deadLetter;
          deadLetters.push(deadLetter);
          pendingBytes += bytes;
          if (firstRead) counters.dead_lettered++;
        }
        // A produce request's record batch must stay under the broker's message.max.bytes (1 MB by default).
        if (pendingBytes >= MAX_SEND_BYTES) sendPending();
        cycleMessages++;
        nextOffset = offset + 1n;
        if (firstRead) {
          counters.read++;
          readUpTo.set(partition, nextOffset);
        } else {
          counters.read_again++;
        }
        if (cycleMessages === 50) crashPoint("mid-batch");
        if (sink.rowCount >= settings.fileMaxRows) {
          // file_max_rows is a hard bound on a file: end the cycle right here, mid-batch.
          sendPending();
          await endCycle();
        }
      }
      sendPending();
    },

    async flushIfDue(now, force = false) {
      if (!transaction || broken) return;
      if (force || now - cycleStartedAt >= settings.fileMaxAgeMs) await endCycle();
    },

    async abandon() {
      sink.discard();
      const open = transaction;
      transaction = undefined;
      nextOffset = committed;
      if (open) await open.abort().catch((error) => log.debug(`partition ${partition}: abort after rebalance: ${(error as Error).message}`));
    },

    async close() {
      await producer.disconnect();
    },
  };
}
