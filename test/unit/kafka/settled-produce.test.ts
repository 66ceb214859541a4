/**
 * kafkajs' own send (sendMessages.js), driven with two fake brokers: when the request to one
 * broker fails while the other's is still in flight, the original resends the in-flight batch as
 * a new one (records written twice); with settleSiblingsFirst each batch reaches its broker once,
 * and the retry carries the failed broker's rolled-back sequence numbers.
 */
import { describe, expect, test } from "bun:test";
import createSendMessages from "kafkajs/src/producer/sendMessages.js";
import createRetry from "kafkajs/src/retry/index.js";
import { settleSiblingsFirst, type ProduceRequestArgs } from "../../../src/kafka/settled-produce.ts";

interface PartitionData {
  partition: number;
  firstSequence: number;
  messages: unknown[];
}
interface ProduceArgs extends ProduceRequestArgs {
  topicData: { topic: string; partitions: PartitionData[] }[];
}
type RawProduce = (this: unknown, request: ProduceArgs) => Promise<unknown>;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connectionError(): Error {
  return Object.assign(new Error("Connection error: write after end"), { name: "KafkaJSConnectionError", retriable: true });
}

function answer(request: ProduceArgs) {
  return {
    topics: request.topicData.map(({ topic, partitions }) => ({
      topicName: topic,
      partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: "0" })),
    })),
  };
}

/**
 * Topic "t": partition 0 led by broker 1, whose first request fails at once; partition 1 led by
 * broker 2, which answers after 80 ms (the retry comes after ~10 ms). Returns, per broker, the
 * first sequence number of every request it received for its partition.
 */
async function sendWithOneFastFailure(wrap: (produce: RawProduce) => RawProduce) {
  const received: Record<number, number[]> = { 1: [], 2: [] };
  let brokerOneCalls = 0;
  const raw: Record<number, RawProduce> = {
    1: async (request) => {
      received[1]!.push(request.topicData[0]!.partitions[0]!.firstSequence);
      if (++brokerOneCalls === 1) throw connectionError();
      return answer(request);
    },
    2: async (request) => {
      received[2]!.push(request.topicData[0]!.partitions[0]!.firstSequence);
      await sleep(80);
      return answer(request);
    },
  };
  // One function for both brokers, as the patch is one for Broker.prototype: dispatched on `this`.
  const produce = wrap(function (this: unknown, request) {
    return raw[(this as { nodeId: number }).nodeId]!(request);
  });
  const brokers = [1, 2].map((nodeId) => ({ nodeId, produce }));

  const sequences = new Map<string, number>();
  const locks = new Map<number, Promise<void>>();
  const releases = new Map<number, () => void>();
  const eosManager = {
    isTransactional: () => false,
    getTransactionalId: () => undefined,
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}/${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, increment: number) =>
      sequences.set(`${topic}/${partition}`, (sequences.get(`${topic}/${partition}`) ?? 0) + increment),
    async acquireBrokerLock(broker: { nodeId: number }) {
      while (locks.has(broker.nodeId)) await locks.get(broker.nodeId);
      locks.set(broker.nodeId, new Promise<void>((resolve) => releases.set(broker.nodeId, resolve)));
    },
    releaseBrokerLock(broker: { nodeId: number }) {
      locks.delete(broker.nodeId);
      releases.get(broker.nodeId)?.();
    },
  };
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {},
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    removeBroker: () => {},
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: 2 },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) =>
      Object.groupBy(partitions.map(Number), (partition) => (partition === 0 ? 1 : 2)),
    findBroker: async ({ nodeId }: { nodeId: number }) => brokers[nodeId - 1],
  };
  const sendMessages = createSendMessages({
    logger: quiet,
    cluster,
    eosManager,
    partitioner: ({ message }) => message.partition!,
    retrier: createRetry({ retries: 3, initialRetryTime: 10, maxRetryTime: 20 }),
  });
  const messages = [
    { partition: 0, value: "a" },
    { partition: 1, value: "b" },
    { partition: 1, value: "c" },
  ];
  await sendMessages({ acks: -1, topicMessages: [{ topic: "t", messages }] });
  return { received, sequences };
}

describe("a Produce request that fails while a sibling is in flight", () => {
  test("kafkajs alone resends the in-flight batch with advanced sequence numbers: written twice", async () => {
    const { received } = await sendWithOneFastFailure((produce) => produce);
    expect(received[2]).toEqual([0, 2]);
  });

  test("with settleSiblingsFirst each broker's batch is sent once, and the failed one again with its own sequence", async () => {
    const { received, sequences } = await sendWithOneFastFailure((produce) => settleSiblingsFirst(produce));
    expect(received[2]).toEqual([0]);
    expect(received[1]).toEqual([0, 0]);
    expect(sequences.get("t/0")).toBe(1);
    expect(sequences.get("t/1")).toBe(2);
  });

  test("waits only for requests of the same producer id and epoch", async () => {
    let releaseOther!: () => void;
    const other = new Promise<void>((resolve) => (releaseOther = resolve));
    const produce = settleSiblingsFirst(async (request: ProduceArgs) => {
      if (request.producerId === 1) throw connectionError();
      await other;
      return "answered";
    });
    const slow = produce({ producerId: 2, producerEpoch: 0, topicData: [] });
    await expect(produce({ producerId: 1, producerEpoch: 0, topicData: [] })).rejects.toThrow("write after end");
    releaseOther();
    expect(await slow).toBe("answered");
  });
});
