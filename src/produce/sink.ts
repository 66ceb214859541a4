/**
 * Where the produce loop's requests go, behind one interface: the Kafka sink (an idempotent
 * producer onto the input topic, counted in the ledger) or the dry-run sink (counts, publishes and
 * records nothing). The loop never asks which one it has, so nothing in it is optional.
 */
import { type Message, type PartitionMetadata, type Producer, type TopicMessages } from "kafkajs";
import { describeError } from "../errors.ts";
import type { KafkaContext } from "../kafka/client.ts";
import { KAFKA_CODEC_TYPES } from "../kafka/codecs.ts";
import { prepareRecords } from "../kafka/fast-produce-request.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { DefaultPartitioner } from "../kafka/partitioner.ts";
import { retryWhileRetriable } from "../kafka/retry.ts";
import { ensureTopics, topicMaxMessageBytes } from "../kafka/topics.ts";
import { heartbeatEveryMs, type Ledger, type Rejection } from "../ledger/ledger.ts";
import { log } from "../ui/log.ts";
import { oneInFlight } from "./in-flight.ts";
import type { KafkaSinkSettings } from "./options.ts";
import type { FinalState } from "./run-state.ts";
import { createSendPath } from "./send-path.ts";
import { settleRun } from "./settle.ts";

export interface Sink {
  readonly kind: "kafka" | "dry-run";
  /** The ledger run; null when nothing is published. */
  readonly runId: string | null;
  /** The largest record the input topic takes (its max.message.bytes). */
  readonly maxMessageBytes: number;
  /** Messages handed over and not yet acknowledged. */
  readonly inFlight: number;
  /** The partition a message goes to (Kafka's default partitioner; round-robin for keyless ones, so call it once per message). */
  partitionOf(message: Message): number;
  readonly acknowledged: number;
  /** Counts a rejected element in the run. */
  reject(rejection: Rejection): void;
  /** Hands one request over; a failure of the one before surfaces here. */
  send(messages: Message[]): Promise<void>;
  /** Waits for the request in flight; throws its failure. */
  drain(): Promise<void>;
  /** Settles the run in the ledger with its final state and lets the producer go. */
  close(final: FinalState): Promise<void>;
}

/** Opens a sink for one run of `source`, started (on performance.now()'s clock) at `startedAt`. */
export type OpenSink = (run: { source: string; startedAt: number }) => Promise<Sink>;

/** What the Kafka sink writes to the ledger. */
export type RunLedger = Pick<Ledger, "startRun" | "beat" | "recordRejection" | "recordInDoubt" | "recordAcks" | "finishRun" | "keepForLater">;

export const openDryRunSink: OpenSink = async () => {
  let acknowledged = 0;
  return {
    kind: "dry-run",
    runId: null,
    // Nothing is published, so no topic limit applies.
    maxMessageBytes: Number.POSITIVE_INFINITY,
    inFlight: 0,
    // Nothing is published: one partition's bounds for every request.
    partitionOf: () => 0,
    get acknowledged() {
      return acknowledged;
    },
    reject: () => undefined,
    send: async (messages) => {
      acknowledged += messages.length;
    },
    drain: async () => undefined,
    close: async () => undefined,
  };
};

export function kafkaSink(context: KafkaContext, ledger: RunLedger, settings: KafkaSinkSettings): OpenSink {
  return async ({ source, startedAt }) => {
    const { topic, brokers } = settings;
    const prepared = await prepareInputTopic(context, settings);
    const producer = await connectProducer(context, brokers);
    const runId = Bun.randomUUIDv7();
    ledger.startRun({ id: runId, producer: settings.producer, source, topic });
    const stopHeartbeat = startHeartbeat(ledger, runId, heartbeatEveryMs(settings.heartbeatTimeoutMs));
    const compression = KAFKA_CODEC_TYPES[settings.compression];
    const partitioner = DefaultPartitioner();
    const partitionOf = (message: Message) => partitioner({ topic, partitionMetadata: prepared.partitionMetadata, message });
    const path = createSendPath(
      { runId, topic, brokers, startOffsets: prepared.startOffsets },
      {
        // The one place a request is made: acks from all in-sync replicas, the run's compression.
        request: (topicMessages: TopicMessages[]) => producer.sendBatch({ topicMessages, acks: -1, compression }),
        partitionOf,
        ledger,
        prepareRecords: (partitionMessages) => prepareRecords(partitionMessages, compression),
      },
    );
    const requests = oneInFlight(path.send, { rate: settings.rate, startedAt, acknowledged: () => path.acknowledged }, path.prepare);
    return {
      kind: "kafka",
      runId,
      maxMessageBytes: prepared.maxMessageBytes,
      get inFlight() {
        return requests.inFlight;
      },
      partitionOf,
      get acknowledged() {
        return path.acknowledged;
      },
      reject: (rejection) => ledger.recordRejection(runId, rejection),
      send: requests.send,
      drain: requests.drain,
      async close(final) {
        stopHeartbeat();
        try {
          settleRun(ledger, path, { runId, topic, final });
        } finally {
          await producer.disconnect();
        }
      },
    };
  };
}

interface PreparedTopic {
  readonly partitionMetadata: PartitionMetadata[];
  /** Where this run's messages can start, per partition: where recon looks for a request in doubt. */
  readonly startOffsets: ReadonlyMap<number, number>;
  readonly maxMessageBytes: number;
}

/** Creates the missing topics and reads the input topic's partitions, end offsets and record limit. */
async function prepareInputTopic(context: KafkaContext, settings: KafkaSinkSettings): Promise<PreparedTopic> {
  const { topic, brokers } = settings;
  const admin = context.kafka.admin();
  try {
    await admin.connect();
    // On a cluster, a topic just created may not be known to every broker yet: retriable.
    const [partitionMetadata, startOffsets] = await retryWhileRetriable(async () => {
      await ensureTopics(admin, [...settings.topics], settings.layout, { input: topic, deadLetter: settings.deadLetterTopic });
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, Number(entry.high)]));
      return [partitions, ends] as const;
    }, settings.retryLimitMs);
    const maxMessageBytes = await topicMaxMessageBytes(admin, topic);
    return { partitionMetadata, startOffsets, maxMessageBytes };
  } catch (error) {
    throw toKafkaError(error, "cannot prepare the input topic", { brokers, topic });
  } finally {
    await admin.disconnect();
  }
}

async function connectProducer(context: KafkaContext, brokers: string): Promise<Producer> {
  const producer = context.kafka.producer({
    createPartitioner: DefaultPartitioner,
    idempotent: true,
    // One request in flight keeps the idempotent producer's sequence numbers simple (see in-flight.ts).
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: context.retry,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw toKafkaError(error, "cannot connect the producer", { brokers });
  }
  return producer;
}

/**
 * Says the run is alive, for recon: a run that says running with no heartbeat for
 * ledger.heartbeat_timeout was killed. Returns the function that stops it.
 */
function startHeartbeat(ledger: Pick<Ledger, "beat">, runId: string, everyMs: number): () => void {
  const heartbeat = setInterval(() => {
    try {
      ledger.beat(runId);
    } catch (error) {
      // Harmless once: the next beat comes long before the timeout, and an acknowledgement that
      // cannot be written ends the run with its own error.
      log.debug(`ledger heartbeat: ${describeError(error)}`);
    }
  }, everyMs);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}
