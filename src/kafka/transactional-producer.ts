/**
 * The transactional producer of one stream-clean partition, behind the narrow port its cycle
 * needs: begin a transaction, and inside it send, add the consumer offset, commit or abort. What
 * is kafkajs-specific about that lives here: the producer settings, the fencing at start, and the
 * one place a transaction's messages are sent.
 */
import type { Kafka, RecordMetadata, Transaction, TopicMessages } from "kafkajs";
import { producerClusterOf, type LeaderCluster } from "./client-cluster.ts";
import { KAFKA_CODEC_TYPES, type KafkaCodecName } from "./codecs.ts";
import { sendCompletely } from "./complete-send.ts";
import { splitByLeader } from "./leader-groups.ts";
import { prepareRecords } from "./fast-produce-request.ts";
import { partitionGroups, partitionedMessages } from "./partitioned-messages.ts";
import { DefaultPartitioner } from "./partitioner.ts";

export interface TransactionalProducer {
  /** Opens the next transaction. */
  begin(): Promise<ProducerTransaction>;
  disconnect(): Promise<void>;
}

export interface ProducerTransaction {
  /**
   * Encodes and compresses the records of a send queued behind others (messages whose partitions
   * are set, not changed afterwards), so its request, when its turn comes, adds only the batch
   * headers: the codec runs on Bun's worker threads while the sends before it are in flight.
   */
  prepare(topicMessages: TopicMessages[]): void;
  /** Sends messages whose partitions are set; resolves once every partition acknowledged them (acks from all replicas). */
  send(topicMessages: TopicMessages[]): Promise<void>;
  /** Adds the group's committed offset of one input partition to the transaction. */
  sendOffsets(position: { groupId: string; topic: string; partition: number; offset: bigint }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface TransactionalProducerOptions {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  readonly retry: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** Compression of every batch this producer sends (clean.send_compression). */
  readonly compression: KafkaCodecName;
}

/**
 * Connects a producer and initialises its transactional id, which fences the previous owner of
 * the id: the broker completes or aborts the transaction that owner left open before answering,
 * so whatever the caller reads next (the committed offset) is final. kafkajs initialises the id at
 * the first transaction(), not at connect() (which gets an idempotent producer id only), so an
 * empty transaction is begun and aborted here.
 */
export async function startTransactionalProducer(kafka: Kafka, options: TransactionalProducerOptions): Promise<TransactionalProducer> {
  const producer = kafka.producer({
    transactionalId: options.transactionalId,
    createPartitioner: DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: options.transactionTimeoutMs,
    // The broker answers CONCURRENT_TRANSACTIONS while the previous commit's markers are being
    // written; retrying after 300 ms (kafkajs' default) would stall every cycle, 25 ms does not.
    retry: { ...options.retry, initialRetryTime: 25 },
  });
  try {
    await producer.connect();
    await (await producer.transaction()).abort();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw error;
  }
  const cluster = producerClusterOf(producer);
  return {
    async begin() {
      const transaction = await producer.transaction();
      return {
        prepare(topicMessages) {
          for (const { messages } of topicMessages) for (const group of partitionGroups(messages)) prepareRecords(group, KAFKA_CODEC_TYPES[options.compression]);
        },
        async send(topicMessages) {
          await sendCompletely((pending) => sendPerLeader(transaction, cluster, pending, options.compression), topicMessages);
        },
        async sendOffsets({ groupId, topic, partition, offset }) {
          await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition, offset: offset.toString() }] }] });
        },
        commit: () => transaction.commit(),
        abort: () => transaction.abort(),
      };
    },
    disconnect: () => producer.disconnect(),
  };
}

/**
 * One kafkajs send per partition leader, one after another. kafkajs sends one Produce request
 * per leader and awaits them together; when one fails before the others have settled, its retry
 * sends the batches still in flight a second time, with new sequence numbers, so the broker
 * writes their records twice inside the transaction (fault scenario 9b). With one leader per
 * send there is no other request to race; settled-send.ts covers a leader that moves between
 * this split and kafkajs' own. On one broker, or when a send's partitions share a leader (the
 * usual case: one window's staging partition and a dead letter or two), it is one send as before.
 * A send failing part-way loses the earlier leaders' acknowledgements from the SendIncompleteError;
 * a transaction's failed send aborts the cycle, which does not count them.
 */
async function sendPerLeader(transaction: Transaction, cluster: LeaderCluster | undefined, pending: TopicMessages[], compression: KafkaCodecName): Promise<RecordMetadata[]> {
  const send = (topicMessages: TopicMessages[]) => transaction.sendBatch({ topicMessages, acks: -1, compression: KAFKA_CODEC_TYPES[compression] });
  if (cluster === undefined) return await send(pending);
  await cluster.refreshMetadataIfNecessary();
  const leaders = new Map(pending.map(({ topic }) => [topic, new Map(cluster.findTopicPartitionMetadata(topic).map((p) => [p.partitionId, p.leader ?? undefined]))]));
  const groups = splitByLeader(pending, (topic, partition) => leaders.get(topic)?.get(partition));
  if (groups.length === 1) return await send(pending);
  const acknowledged: RecordMetadata[] = [];
  for (const group of groups) acknowledged.push(...(await send(group.map(({ topic, messages }) => ({ topic, messages: partitionedMessages(messages) })))));
  return acknowledged;
}
