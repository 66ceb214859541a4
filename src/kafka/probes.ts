/**
 * The questions `kstream check` asks a cluster, each answered by the broker's own authorizer and
 * leaving nothing behind where that can be avoided: no record written, no group joined, no topic
 * created. What each answer means (a verdict, what to change) is decided in src/check/, not here.
 *
 * - write / read access to a topic: a Produce (or Fetch) for partition -1, which cannot exist.
 *   Kafka authorizes the topic before it looks the partition up, so the answer is
 *   TOPIC_AUTHORIZATION_FAILED (no right) or UNKNOWN_TOPIC_OR_PARTITION (allowed), and nothing is
 *   appended or read. This needs a raw broker request, hence kafkajs' cluster (kafkajs-internals.d.ts).
 * - may a missing topic be created: CreateTopics with validateOnly.
 * - transactions and the group: a transactional producer initialises its id (InitProducerId),
 *   adds the group's offsets to an empty transaction (AddOffsetsToTxn + TxnOffsetCommit of
 *   nothing, the rights stream-clean's commit needs) and aborts it.
 */
import type { Admin, Kafka } from "kafkajs";
import { DependencyError } from "../errors.ts";
import { DefaultPartitioner } from "./partitioner.ts";

/** The broker's answer to one access question; `error` is the Kafka error type (TOPIC_AUTHORIZATION_FAILED). */
export type Access = { readonly allowed: true } | { readonly allowed: false; readonly error: string; readonly message: string };

const allowed: Access = { allowed: true };

function refusal(error: unknown): Access {
  const failure = error as { type?: string; message?: string; name?: string };
  return { allowed: false, error: failure.type ?? failure.name ?? "UNKNOWN", message: failure.message ?? String(error) };
}

/** Kafka's error types that mean "this principal lacks a right", as opposed to a failure. */
export const AUTHORIZATION_ERRORS = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
]);

export interface ClusterFacts {
  readonly brokers: number;
  readonly controller: number | null;
  readonly clusterId: string;
}

export async function describeCluster(admin: Admin): Promise<ClusterFacts> {
  const cluster = await admin.describeCluster();
  return { brokers: cluster.brokers.length, controller: cluster.controller, clusterId: cluster.clusterId };
}

export type TopicFacts =
  | { readonly exists: true; readonly partitions: number; readonly replicationFactor: number }
  | { readonly exists: false; readonly create: Access };

/**
 * Each topic's partitions and smallest replica count, or for one the principal cannot see, whether
 * CreateTopics (validateOnly: nothing is created) would take it with this layout. A topic that
 * exists but may not be described answers TOPIC_ALREADY_EXISTS (or an authorization error) there.
 */
export async function describeTopics(admin: Admin, topics: readonly string[], layout: { partitions: number; replicationFactor: number }): Promise<Map<string, TopicFacts>> {
  const listed = new Set(await admin.listTopics());
  const present = topics.filter((topic) => listed.has(topic));
  const facts = new Map<string, TopicFacts>();
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: [...new Set(present)] });
    for (const topic of metadata.topics) {
      const replicas = topic.partitions.map((partition) => partition.replicas.length);
      facts.set(topic.name, { exists: true, partitions: topic.partitions.length, replicationFactor: replicas.length ? Math.min(...replicas) : 0 });
    }
  }
  for (const topic of topics) {
    if (facts.has(topic)) continue;
    const create = await admin
      .createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor }] })
      .then(() => allowed, (error) => refusal(firstOf(error)));
    facts.set(topic, { exists: false, create });
  }
  return facts;
}

/** kafkajs reports CreateTopics' per-topic errors as an aggregate; one topic is asked at a time. */
function firstOf(error: unknown): unknown {
  const aggregate = error as { errors?: unknown[] };
  return Array.isArray(aggregate.errors) && aggregate.errors.length > 0 ? aggregate.errors[0] : error;
}

/** FindCoordinator's key types: a consumer group, a transactional id. */
const GROUP_COORDINATOR = 0;
const TRANSACTION_COORDINATOR = 1;

/** The partition index the access probes name: Kafka partitions count from 0, so none has it. */
const NO_PARTITION = -1;

interface RawBroker {
  produce(request: { acks: number; timeout: number; topicData: unknown[] }): Promise<unknown>;
  findGroupCoordinator(request: { groupId: string; coordinatorType: number }): Promise<unknown>;
  fetch(request: { maxWaitTime: number; minBytes: number; maxBytes: number; isolationLevel: number; topics: unknown[] }): Promise<unknown>;
}
interface RawCluster {
  connect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  disconnect(): Promise<void>;
  getNodeIds(): number[];
  findBroker(args: { nodeId: number }): Promise<RawBroker>;
}

/**
 * kafkajs' cluster object (what its producer and admin use inside): the only way to send one raw
 * request. kafkajs 2.2.4 (patches.ts pins it) keeps its factory under a private symbol.
 */
function rawCluster(kafka: Kafka): RawCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((candidate) => candidate.description === "private:Kafka:createCluster");
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== "function") throw new DependencyError("kafkajs has no private:Kafka:createCluster: the access probes were written for kafkajs 2.2.4");
  return create({ allowAutoTopicCreation: false }) as RawCluster;
}

export interface TopicAccess {
  readonly write: Map<string, Access>;
  readonly read: Map<string, Access>;
  /** FindCoordinator for the group (DESCRIBE on it): READ's weaker sibling, for when no transaction could ask. */
  readonly describeGroup: Access;
  /** FindCoordinator for the transactional id (DESCRIBE on it); kafkajs' producer would retry a refusal as "not found". */
  readonly describeTransactionalId: Access;
}

/**
 * Whether the principal may write to and read from each topic, without writing or reading a
 * record, and may look the group up. Raw requests: kafkajs' own lookup turns a refused
 * FindCoordinator into a retried "coordinator not found".
 */
export async function probeTopicAccess(kafka: Kafka, topics: readonly string[], ids: { groupId: string; transactionalId: string }, timeoutMs: number): Promise<TopicAccess> {
  const cluster = rawCluster(kafka);
  await cluster.connect();
  try {
    await cluster.refreshMetadata();
    const broker = await cluster.findBroker({ nodeId: cluster.getNodeIds()[0]! });
    const write = new Map<string, Access>();
    const read = new Map<string, Access>();
    for (const topic of new Set(topics)) {
      write.set(
        topic,
        await broker
          .produce({ acks: -1, timeout: timeoutMs, topicData: [{ topic, partitions: [{ partition: NO_PARTITION, messages: [{ key: null, value: "" }] }] }] })
          .then(() => unexpected(topic), answerOf),
      );
      read.set(
        topic,
        await broker
          .fetch({ maxWaitTime: 0, minBytes: 0, maxBytes: 1, isolationLevel: 1, topics: [{ topic, partitions: [{ partition: NO_PARTITION, fetchOffset: "0", maxBytes: 1 }] }] })
          .then(() => unexpected(topic), answerOf),
      );
    }
    // On a fresh cluster the coordinators' topics are created by the first lookup: a retriable
    // "not available" is asked again (within half the timeout), not taken for a verdict.
    const deadline = Date.now() + timeoutMs / 2;
    const describeGroup = await untilAnswered(deadline, () => broker.findGroupCoordinator({ groupId: ids.groupId, coordinatorType: GROUP_COORDINATOR }));
    const describeTransactionalId = await untilAnswered(deadline, () =>
      broker.findGroupCoordinator({ groupId: ids.transactionalId, coordinatorType: TRANSACTION_COORDINATOR }),
    );
    return { write, read, describeGroup, describeTransactionalId };
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** Asks until the broker gives an answer that is not retriable, or the deadline passes. */
async function untilAnswered(deadline: number, ask: () => Promise<unknown>): Promise<Access> {
  for (;;) {
    try {
      await ask();
      return allowed;
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() > deadline) return refusal(error);
      await Bun.sleep(300);
    }
  }
}

/** "No such partition" is the broker saying the topic right was granted. */
function answerOf(error: unknown): Access {
  return (error as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION" ? allowed : refusal(error);
}

/** A broker that accepted partition -1 is not one these probes understand: say so rather than guess. */
function unexpected(topic: string): Access {
  return { allowed: false, error: "UNEXPECTED_ANSWER", message: `the broker accepted a request for partition ${NO_PARTITION} of ${topic}` };
}

export interface TransactionAccess {
  /** InitProducerId for the transactional id (WRITE on it). */
  readonly transaction: Access;
  /** The group's offsets in a transaction (READ on the group); undefined when the transaction was refused. */
  readonly group: Access | undefined;
}

/**
 * Initialises `transactionalId`, puts the group's (empty) offsets in a transaction and aborts it.
 * Ask only once probeTopicAccess found the id describable: kafkajs retries a refused lookup.
 */
export async function probeTransaction(kafka: Kafka, transactionalId: string, groupId: string): Promise<TransactionAccess> {
  const producer = kafka.producer({ transactionalId, idempotent: false, maxInFlightRequests: 1, createPartitioner: DefaultPartitioner, retry: { retries: 5 } });
  try {
    await producer.connect();
    const transaction = await producer.transaction().then(
      (txn) => ({ txn, access: allowed }),
      (error) => ({ txn: undefined, access: refusal(error) }),
    );
    if (!transaction.txn) return { transaction: transaction.access, group: undefined };
    const group = await transaction.txn.sendOffsets({ consumerGroupId: groupId, topics: [] }).then(() => allowed, refusal);
    await transaction.txn.abort().catch(() => undefined);
    return { transaction: allowed, group };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
