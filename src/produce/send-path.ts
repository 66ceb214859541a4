/**
 * One produce request's way through: partitions chosen, its in-doubt rows written before it goes,
 * the broker's answer turned into acknowledgements owed to the ledger, and what got no answer kept
 * in doubt for recon. The broker and the ledger are ports, so every outcome is unit-tested with
 * fakes.
 *
 * Partitions are chosen here (Kafka's murmur2 partitioner) so each acknowledgement's base offset
 * maps to a known message count per partition: that is what the ledger records.
 */
import type { Message, RecordMetadata, TopicMessages } from "kafkajs";
import { KafkaError } from "../errors.ts";
import { crashPoint } from "../faults.ts";
import { SendIncompleteError, sendCompletely } from "../kafka/complete-send.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { partitionGroups } from "../kafka/partitioned-messages.ts";
import { type Acknowledgement, type InDoubt, type Ledger, RUN_HEADER } from "../ledger/ledger.ts";

export type SendLedger = Pick<Ledger, "recordInDoubt" | "recordAcks">;

export interface SendPorts {
  /** One produce request with the run's acks and compression: the broker's answers, per partition. */
  readonly request: (topicMessages: TopicMessages[]) => Promise<RecordMetadata[]>;
  /** The partition a message goes to. */
  readonly partitionOf: (message: Message) => number;
  readonly ledger: SendLedger;
  /** Encodes (and compresses) one partition's messages ahead of their request; optional, the request encodes them otherwise. */
  readonly prepareRecords?: (partitionMessages: Message[]) => void;
}

export interface SendRun {
  readonly runId: string;
  readonly topic: string;
  /** The brokers, named in errors. */
  readonly brokers: string;
  /** Each partition's end offset when the run started: where the run's first message on it can be, at the earliest. */
  readonly startOffsets: ReadonlyMap<number, number>;
}

/** What the ledger does not hold yet. */
export interface Owed {
  /** Acknowledged by the broker, not yet in the ledger. */
  readonly unrecorded: readonly Acknowledgement[];
  /**
   * Sent in a request that got no answer: recorded again when the run ends (recon may have settled
   * its first row meanwhile), and settled by recon.
   */
  readonly inDoubt: readonly InDoubt[];
}

export interface SendPath {
  /** Messages the broker acknowledged to this run, whether or not the ledger has them yet. */
  readonly acknowledged: number;
  readonly owed: Owed;
  /**
   * Chooses the messages' partitions and has their records encoded while the request before is in
   * flight; a later send() of the same messages, unchanged, uses that work.
   */
  prepare(messages: Message[]): void;
  /** Sends one request and records its answer; throws a KafkaError that says how many records are in doubt. */
  send(messages: Message[]): Promise<void>;
  /** Records what is owed in one transaction; a failure (the ledger locked past its timeout) keeps it all owed. */
  recordOwed(): void;
}

export function createSendPath(run: SendRun, ports: SendPorts): SendPath {
  const { runId, topic } = run;
  /** How recon finds the run's messages on the topic: one object shared by all, so the encoder measures it once. */
  const runHeaders = Object.freeze({ [RUN_HEADER]: runId });
  let acknowledged = 0;
  const unrecorded: Acknowledgement[] = [];
  const inDoubt: InDoubt[] = [];
  /** The last offset acknowledged to this run, per partition. */
  const lastAcked = new Map<number, number>();
  /** Where the run's next message on a partition can be, at the earliest: where recon looks for a request in doubt. */
  const earliestNext = (partition: number) => {
    const after = lastAcked.get(partition);
    return after === undefined ? (run.startOffsets.get(partition) ?? 0) : after + 1;
  };

  /** Gives a message its partition (once: a prepared message has it already) and the run's header. */
  const place = (message: Message): number => {
    const partition = message.partition ?? ports.partitionOf(message);
    message.partition = partition;
    message.headers = runHeaders;
    return partition;
  };

  /** The broker has them, whatever the ledger says next: they are acknowledged, and owed to the ledger. */
  const owe = (results: readonly RecordMetadata[], counts: ReadonlyMap<number, number>) => {
    const acks = results
      .map((result) => ({ partition: result.partition, firstOffset: Number(result.baseOffset), count: counts.get(result.partition) ?? 0 }))
      .filter((ack) => ack.count > 0);
    for (const ack of acks) {
      acknowledged += ack.count;
      lastAcked.set(ack.partition, ack.firstOffset + ack.count - 1);
    }
    unrecorded.push(...acks);
  };

  /**
   * What was answered before a failure is counted; the rest may or may not have landed (the brokers
   * went away with the request): kept in doubt, for recon to look up on the topic.
   */
  const failed = (error: unknown, counts: ReadonlyMap<number, number>): KafkaError => {
    const answered = error instanceof SendIncompleteError ? error.answered : [];
    owe(answered, counts);
    const answeredPartitions = new Set(answered.map((result) => result.partition));
    for (const [partition, count] of counts) {
      if (!answeredPartitions.has(partition)) inDoubt.push({ topic, partition, from_offset: earliestNext(partition), count });
    }
    const failure = toKafkaError(error instanceof SendIncompleteError ? error.cause : error, "produce failed", { brokers: run.brokers, topic });
    const doubtful = inDoubt.reduce((sum, entry) => sum + entry.count, 0);
    if (doubtful === 0) return failure;
    return new KafkaError(`${failure.message}; ${doubtful} records sent without an answer are in doubt (kstream recon looks for them on the topic)`, {
      context: failure.context,
      cause: error,
      retriable: failure.retriable,
    });
  };

  const recordOwed = () => {
    if (unrecorded.length === 0) return;
    ports.ledger.recordAcks(runId, topic, unrecorded);
    unrecorded.length = 0;
  };

  return {
    get acknowledged() {
      return acknowledged;
    },
    owed: { unrecorded, inDoubt },
    recordOwed,
    prepare(messages) {
      for (const message of messages) place(message);
      if (ports.prepareRecords) for (const group of partitionGroups(messages)) ports.prepareRecords(group);
    },
    async send(messages) {
      const counts = new Map<number, number>();
      for (const message of messages) {
        const partition = place(message);
        counts.set(partition, (counts.get(partition) ?? 0) + 1);
      }
      // In doubt until its answer is recorded: a producer killed (kill -9) after the request landed
      // and before the answer was written leaves this row, and recon finds the records on the topic.
      ports.ledger.recordInDoubt(
        runId,
        [...counts].map(([partition, count]) => ({ topic, partition, from_offset: earliestNext(partition), count })),
      );
      let results: RecordMetadata[];
      try {
        crashPoint("before-send");
        results = await sendCompletely(ports.request, [{ topic, messages }]);
        crashPoint("answer-lost");
      } catch (error) {
        throw failed(error, counts);
      }
      owe(results, counts);
      recordOwed();
    },
  };
}
