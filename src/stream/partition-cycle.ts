/**
 * One input partition's cycles, as an explicit state machine (cycle-states.ts). A cycle is one
 * Kafka transaction: records are cleaned, their staging messages and dead letters are sent inside
 * the open transaction, their rows are buffered; at the end of the cycle the rows are made durable
 * (Parquet renamed into place) before the transaction is committed together with the consumer
 * offset. See README "Exactly once: the protocol".
 *
 * The PartitionCycle owns the open transaction, the buffered rows (held by its cleaner), the sends
 * in flight and the two offsets. It talks to Kafka only through the TransactionalProducer port and
 * to cleaning and disk only through the PartitionCleaner port (cleaner.ts: in this thread or in a
 * worker), so every transition and failure is tested with fakes.
 *
 * Every public step (process, flushIfDue, abandon) runs on `serial`: the partition's batches, its
 * clock-driven flushes and its teardown take turns, so no two steps touch the cycle at once.
 */
import type { KafkaMessage, TopicMessages } from "kafkajs";
import { type KafkaError, WorkerError } from "../errors.ts";
import { type CrashPoint, crashPoint } from "../faults.ts";
import { isFencedError, toKafkaError } from "../kafka/errors.ts";
import { partitionForKey } from "../kafka/partitioner.ts";
import { isRetriable } from "../kafka/retry.ts";
import type { ProducerTransaction, TransactionalProducer } from "../kafka/transactional-producer.ts";
import { log } from "../ui/log.ts";
import { type CycleState, isTerminal, transition } from "./cycle-states.ts";
import { deadLetterMessage } from "./dead-letter.ts";
import { type FetchSpan, positionAfterBatch } from "./fetch-position.ts";
import { Outbox } from "./outbox.ts";
import type { CleanedChunk, PartitionCleaner } from "./cleaner.ts";
import { SendChain } from "./send-chain.ts";
import type { Outcome } from "./worker-protocol.ts";
import { createSerial, type Serial } from "./serial.ts";
import type { CycleEvents, CycleSettings, OutputPartitions, StreamCounters } from "./types.ts";

/** Sends queued per transaction before cleaning waits for one (see send-chain.ts). */
export const MAX_SENDS_IN_FLIGHT = 4;

/** Records per chunk handed to the cleaner: small enough to overlap cleaning with sending, large enough that a chunk's round trip is cheap. */
export const CHUNK_RECORDS = 1_000;

/** Chunks cleaned ahead of the one being staged. */
export const CHUNKS_AHEAD = 2;

export interface PartitionCycleOptions {
  readonly partition: number;
  readonly settings: CycleSettings;
  readonly producer: TransactionalProducer;
  /** Cleans the records and keeps the open cycle's rows until they are flushed into Parquet. */
  readonly cleaner: PartitionCleaner;
  /** The group's committed offset, read after the producer fenced the previous owner. */
  readonly committedOffset: bigint;
  readonly counters: StreamCounters;
  /** Per input partition, the offset after the last record any cycle of this process read. */
  readonly readUpTo: Map<number, bigint>;
  readonly partitionCounts: OutputPartitions;
  /** Dead letters by reason, commit latency, files and bytes, aborted cycles (default: ignored). */
  readonly events?: CycleEvents;
  readonly now?: () => number;
  /** The fault hook at each step that makes something durable (KSTREAM_FAULT); tests pass their own. */
  readonly crashPoint?: (point: CrashPoint) => void;
}

const IGNORED_EVENTS: CycleEvents = { deadLettered() {}, committed() {}, aborted() {} };

export class PartitionCycle {
  readonly partition: number;
  readonly serial: Serial = createSerial();
  readonly #options: PartitionCycleOptions;
  readonly #now: () => number;
  readonly #crashPoint: (point: CrashPoint) => void;
  readonly #events: CycleEvents;
  /** The partition as the staging headers carry it (one string, not one per record). */
  readonly #partitionText: string;
  #state: CycleState = "idle";
  /** When the cycle entered its state (the `now` clock). */
  #stateSince: number;
  #transaction: ProducerTransaction | undefined;
  #sends = new SendChain(MAX_SENDS_IN_FLIGHT);
  /**
   * The offset this cycle will commit: one past the last record it processed. Invariant: every
   * offset below it is committed or in the open cycle; in `idle` it equals `committedOffset`.
   */
  #offsetToCommit: bigint;
  /** The offset committed with the last transaction: everything below it is durable. */
  #committedOffset: bigint;
  /** Why the cycle takes no more work, in `broken` and `failed`. */
  #failure: KafkaError | WorkerError | undefined;
  #openedAt = 0;
  #messages = 0;
  /** Rows of records staged in the current chunk, not yet accepted by the cleaner. */
  #staged = 0;

  constructor(options: PartitionCycleOptions) {
    this.#options = options;
    this.partition = options.partition;
    this.#partitionText = String(options.partition);
    this.#now = options.now ?? Date.now;
    this.#crashPoint = options.crashPoint ?? crashPoint;
    this.#events = options.events ?? IGNORED_EVENTS;
    this.#stateSince = this.#now();
    this.#offsetToCommit = options.committedOffset;
    this.#committedOffset = options.committedOffset;
  }

  get state(): CycleState {
    return this.#state;
  }
  /** When the cycle entered its current state, on the `now` clock (Date.now unless a test gives its own). */
  get stateSince(): number {
    return this.#stateSince;
  }
  get offsetToCommit(): bigint {
    return this.#offsetToCommit;
  }
  get committedOffset(): bigint {
    return this.#committedOffset;
  }
  /** Rows of the open cycle held in memory. */
  get bufferedRows(): number {
    return this.#options.cleaner.rowCount + this.#staged;
  }
  /**
   * Why the cycle cannot go on (a commit failed retriably, its outcome unknown), or undefined. A
   * broken cycle processes nothing more; its partition restarts from the committed offset.
   */
  get broken(): KafkaError | undefined {
    // Only a retriable failure breaks a cycle, and a WorkerError never is one.
    return this.#state === "broken" ? (this.#failure as KafkaError) : undefined;
  }
  /**
   * Why the cycle was fenced (another producer took its transactional id), or undefined. A fenced
   * cycle processes nothing more; its partition is left to the group (membership.ts).
   */
  get fenced(): KafkaError | undefined {
    // Only a Kafka answer fences a cycle, never a WorkerError.
    return this.#state === "fenced" ? (this.#failure as KafkaError) : undefined;
  }
  /** Why the cycle takes no more work, in `broken`, `fenced` and `failed` (and `closed` after them). */
  get failure(): KafkaError | WorkerError | undefined {
    return this.#failure;
  }

  /**
   * Cleans and stages one fetched batch; returns once it is buffered and its sends are queued (not
   * committed). `span` is the fetch's whole range, records read_committed filtered out included:
   * the position moves past trailing markers and aborted records (fetch-position.ts), and a batch
   * of only those (no messages) still moves it, in a cycle of its own if none is open.
   */
  async process(messages: KafkaMessage[], span?: FetchSpan): Promise<void> {
    this.#refuseWhenDone();
    const positionBefore = this.#offsetToCommit;
    const outbox = new Outbox({ staging: this.#options.settings.stagingTopic, deadLetter: this.#options.settings.deadLetterTopic });
    // After a rebalance kafkajs may deliver from an older position again: skip what is done.
    const todo: { message: KafkaMessage; offset: bigint }[] = [];
    for (const message of messages) {
      const offset = BigInt(message.offset);
      if (offset >= this.#offsetToCommit) todo.push({ message, offset });
    }
    // Chunks are cleaned CHUNKS_AHEAD ahead of the one being staged: the cleaner (a worker) cleans
    // while this thread sends.
    const chunks: { id: number; cleaned: Promise<CleanedChunk>; from: number; to: number }[] = [];
    let handedOver = 0;
    const handOver = () => {
      const from = handedOver;
      const to = Math.min(todo.length, from + CHUNK_RECORDS);
      const records = todo.slice(from, to).map(({ message, offset }) => ({ offset, timestamp: Number(message.timestamp), value: message.value }));
      const pending = this.#options.cleaner.clean(records);
      pending.cleaned.catch(() => undefined);
      chunks.push({ ...pending, from, to });
      handedOver = to;
    };
    while (handedOver < todo.length && chunks.length < CHUNKS_AHEAD) handOver();
    // Below this offset a record was read before, by an earlier cycle of this partition.
    const readBefore = this.#options.readUpTo.get(this.partition) ?? 0n;
    try {
      for (let index = 0; index < chunks.length; index++) {
        const chunk = chunks[index]!;
        const cleaned = await chunk.cleaned;
        if (handedOver < todo.length) handOver();
        await this.#stageChunk(todo, chunk, cleaned, outbox, readBefore);
      }
    } finally {
      for (const chunk of chunks) this.#options.cleaner.release(chunk.id);
    }
    this.#dispatch(outbox.take());
    if (span) await this.#movePastHidden(positionBefore, span);
  }

  /** Stages one cleaned chunk record by record; its rows join the cycle as their records are staged. */
  async #stageChunk(todo: readonly { message: KafkaMessage; offset: bigint }[], chunk: { id: number; from: number; to: number }, cleaned: CleanedChunk, outbox: Outbox, readBefore: bigint): Promise<void> {
    const { partition, settings, readUpTo, counters } = this.#options;
    try {
      for (let index = chunk.from; index < chunk.to; index++) {
        const { message, offset } = todo[index]!;
        await this.#sends.room();
        if (this.#state === "idle") await this.#begin();
        const firstRead = offset >= readBefore;
        this.#stage(message, cleaned.next(), firstRead, outbox);
        this.#messages++;
        this.#offsetToCommit = offset + 1n;
        if (firstRead) {
          counters.read++;
          readUpTo.set(partition, this.#offsetToCommit);
        } else {
          counters.read_again++;
        }
        if (this.#messages === 50) this.#crashPoint("mid-batch");
        if (this.bufferedRows >= settings.fileMaxRows) {
          // file_max_rows is a hard bound on a file: end the cycle right here, mid-batch.
          this.#acceptStaged(chunk.id);
          this.#dispatch(outbox.take());
          await this.#end();
        }
      }
    } finally {
      this.#acceptStaged(chunk.id);
    }
  }

  /** The rows of the records staged so far join the cycle's cleaner. */
  #acceptStaged(chunk: number): void {
    if (this.#staged === 0) return;
    this.#options.cleaner.accept(chunk, this.#staged);
    this.#staged = 0;
  }

  /** Offsets are committed only by a transaction: a position moved past hidden records alone opens one. */
  async #movePastHidden(positionBefore: bigint, span: FetchSpan): Promise<void> {
    const moved = positionAfterBatch(positionBefore, this.#offsetToCommit, span);
    if (moved <= this.#offsetToCommit) return;
    if (this.#state === "idle") await this.#begin();
    this.#offsetToCommit = moved;
  }

  /** Ends the open cycle if it is old enough (or `force`): Parquet first, then the transaction. */
  async flushIfDue(now: number, force = false): Promise<void> {
    if (this.#state !== "open") return;
    if (force || now - this.#openedAt >= this.#options.settings.fileMaxAgeMs) await this.#end();
  }

  /**
   * Drops the open cycle (rebalance, restart, failed run): forgets its rows, aborts its
   * transaction, and goes back to the committed offset. A broken or failed cycle stays so.
   */
  async abandon(): Promise<void> {
    this.#options.cleaner.discard();
    const open = this.#transaction;
    this.#transaction = undefined;
    this.#offsetToCommit = this.#committedOffset;
    if (this.#state === "open") {
      this.#moveTo("idle");
      this.#events.aborted("dropped");
    }
    if (open) await open.abort().catch((error) => log.debug(`partition ${this.partition}: abort after rebalance: ${(error as Error).message}`));
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#moveTo("closed");
    this.#options.cleaner.close();
    await this.#options.producer.disconnect();
  }

  /** Every change of state goes through here: the table allows it, and its time is noted. */
  #moveTo(to: CycleState): void {
    this.#state = transition(this.#state, to, this.partition);
    this.#stateSince = this.#now();
  }

  #refuseWhenDone(): void {
    if (this.#failure) throw this.#failure;
    if (isTerminal(this.#state)) throw new Error(`partition ${this.partition}: the cycle is ${this.#state}`);
  }

  async #begin(): Promise<void> {
    try {
      this.#transaction = await this.#options.producer.begin();
    } catch (error) {
      throw toKafkaError(error, "cannot begin a transaction", { topic: this.#options.settings.inputTopic, partition: this.partition });
    }
    this.#moveTo("open");
    this.#openedAt = this.#now();
    this.#messages = 0;
    this.#sends = new SendChain(MAX_SENDS_IN_FLIGHT);
  }

  /** Stages one record's outcome: its staging message (its row joins the cycle), or its dead letter. */
  #stage(message: KafkaMessage, outcome: Outcome, firstRead: boolean, outbox: Outbox): void {
    const { partition, settings, counters, partitionCounts } = this.#options;
    const dispatch = (send: TopicMessages[]) => this.#dispatch(send);
    if (outcome.kind === "row") {
      this.#staged++;
      const headers = { "kstream-source-partition": this.#partitionText, "kstream-source-offset": message.offset };
      outbox.add("staging", { key: outcome.key, value: outcome.value, partition: outcome.partition, headers }, outcome.size + 64, dispatch);
      if (firstRead) counters.cleaned++;
    } else {
      const deadLetter = deadLetterMessage(message, settings.inputTopic, partition, outcome.verdict);
      // Keyed like kafkajs would; a keyless one follows its source partition (deterministic).
      deadLetter.partition = message.key ? partitionForKey(message.key, partitionCounts.deadLetter) : partition % partitionCounts.deadLetter;
      outbox.add("deadLetter", deadLetter, (message.value?.length ?? 0) + (message.key?.length ?? 0) + 256, dispatch);
      if (firstRead) {
        counters.dead_lettered++;
        this.#events.deadLettered(outcome.verdict.reason);
      }
    }
  }

  /**
   * Queues one send in the open transaction (the transaction it was staged for, even if awaited
   * later); its records are encoded now, while the sends before it are in flight.
   */
  #dispatch(send: TopicMessages[]): void {
    if (send.length === 0) return;
    const open = this.#transaction!;
    open.prepare(send);
    this.#sends.push(() => open.send(send));
  }

  /**
   * Ends the open cycle. Order is the protocol: every send acknowledged, Parquet renamed into
   * place (durable), then the offset and the commit, so a crash between any two steps is safe.
   */
  async #end(): Promise<void> {
    const open = this.#transaction!;
    const { settings, cleaner, counters } = this.#options;
    this.#moveTo("committing");
    const endedAt = this.#now();
    let written: string[] = [];
    let bytes = 0;
    try {
      await this.#sends.settled();
      this.#crashPoint("before-rename");
      const files = await cleaner.flush();
      written = files.map((file) => file.path);
      bytes = files.reduce((total, file) => total + file.bytes, 0);
      this.#crashPoint("after-rename");
      await open.sendOffsets({ groupId: settings.groupId, topic: settings.inputTopic, partition: this.partition, offset: this.#offsetToCommit });
      this.#crashPoint("in-transaction");
      await open.commit();
      this.#crashPoint("after-commit");
    } catch (error) {
      this.#transaction = undefined;
      throw await this.#commitFailed(error, open, written);
    }
    this.#transaction = undefined;
    this.#committedOffset = this.#offsetToCommit;
    this.#moveTo("idle");
    counters.files += written.length;
    counters.commits++;
    this.#events.committed((this.#now() - endedAt) / 1000, { files: written.length, bytes });
    log.debug(`partition ${this.partition}: committed offset ${this.#committedOffset} (${this.#messages} messages, ${written.length} files)`);
  }

  /** Settles a cycle whose end failed; returns the error to throw. */
  async #commitFailed(error: unknown, open: ProducerTransaction, written: string[]): Promise<KafkaError | WorkerError> {
    const where = { topic: this.#options.settings.inputTopic, partition: this.partition, offset: this.#offsetToCommit.toString() };
    // The offset as text: kafkajs logs the error it gets from eachBatch with JSON.stringify,
    // which throws on a bigint and would replace this error with "cannot serialize BigInt".
    // A failed clean worker keeps its own error (KSTREAM_WORKER): no Kafka step failed.
    this.#failure = error instanceof WorkerError ? error : toKafkaError(error, "cannot commit the cycle", where);
    if (isRetriable(error)) {
      // A broker restarting, a coordinator moving: the commit may even have reached the
      // coordinator before the connection closed (kafkajs sends EndTxn once, without retry), so
      // its outcome is unknown and the files stay. The next producer with this transactional id
      // completes or aborts the transaction, and recovery then keeps the files if the offset was
      // committed and removes them if not.
      this.#moveTo("broken");
      this.#events.aborted("in_doubt");
      return this.#failure;
    }
    // Refused for good: never committed. Remove the files now rather than leave them to the next
    // owner's recovery, which may already have run. Fenced, the partition has (or will have) a new
    // owner; anything else (a full disk) ends the run.
    this.#moveTo(isFencedError(error) ? "fenced" : "failed");
    this.#events.aborted("refused");
    await this.#options.cleaner.remove(written);
    await open.abort().catch(() => undefined);
    return this.#failure;
  }
}
