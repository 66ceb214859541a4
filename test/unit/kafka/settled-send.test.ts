/**
 * kafkajs' own send (sendMessages.js), driven with two fake brokers: when the step for one broker
 * fails (its Produce request, or adding its partitions to the transaction) while the other's
 * request is still in flight, the original resends the in-flight batch as a new one (records
 * written twice); with the settled steps each batch reaches its broker once, and the retry carries
 * the failed broker's rolled-back sequence numbers.
 */
import { describe, expect, test } from "bun:test";
import createSendMessages from "kafkajs/src/producer/sendMessages.js";
import createRetry from "kafkajs/src/retry/index.js";
import { InFlightProduces, settledProduce, settledStep, type ProducerRequestArgs } from "../../../src/kafka/settled-send.ts";

interface PartitionData {
  partition: number;
  firstSequence: number;
  messages: unknown[];
}
interface ProduceArgs extends ProducerRequestArgs {
  topicData: { topic: string; partitions: PartitionData[] }[];
}
interface AddPartitionsArgs extends ProducerRequestArgs {
  topics: { topic: string; partitions: number[] }[];
}
type Method<A> = (this: unknown, args: A) => Promise<unknown>;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const retriable = (name: string, message: string) => Object.assign(new Error(message), { name, retriable: true });

function answer(request: ProduceArgs) {
  return {
    topics: request.topicData.map(({ topic, partitions }) => ({
      topicName: topic,
      partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: "0" })),
    })),
  };
}

/**
 * One transactional send to topic "t": partition 0 led by broker 1, partition 1 by broker 2,
 * which answers after 80 ms (the retry comes after ~10 ms). The first attempt for broker 1 fails
 * at once in its Produce request, or 5 ms in when adding its partition to the transaction. Returns, per
 * broker, the first sequence number of every Produce request it received, and the sequences after.
 */
async function sendWithOneFastFailure(failing: "produce" | "add partitions", settled: boolean) {
  const produces = new InFlightProduces();
  const received: Record<number, number[]> = { 1: [], 2: [] };
  let produceFailures = failing === "produce" ? 1 : 0;
  let addFailures = failing === "add partitions" ? 1 : 0;
  // One function for both brokers, as the patch is one for Broker.prototype: dispatched on `this`.
  const rawProduce: Method<ProduceArgs> = async function (this: unknown, request) {
    const nodeId = (this as { nodeId: number }).nodeId;
    received[nodeId]!.push(request.topicData[0]!.partitions[0]!.firstSequence);
    if (nodeId === 1 && produceFailures-- > 0) throw retriable("KafkaJSConnectionError", "Connection error: write after end");
    if (nodeId === 2) await sleep(80);
    return answer(request);
  };
  const rawAddPartitions: Method<AddPartitionsArgs> = async (request) => {
    if (request.topics[0]!.partitions.includes(0) && addFailures-- > 0) {
      await sleep(5); // broker 2's Produce request has started meanwhile
      throw retriable("KafkaJSProtocolError", "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing");
    }
  };
  const produce = settled ? settledProduce(produces, rawProduce) : rawProduce;
  const addPartitionsToTxn = settled ? settledStep(produces, (args: AddPartitionsArgs) => args.transactionalId, rawAddPartitions) : rawAddPartitions;
  const brokers = [1, 2].map((nodeId) => ({ nodeId, produce }));

  const sequences = new Map<string, number>();
  const locks = new Map<number, Promise<void>>();
  const releases = new Map<number, () => void>();
  const eosManager = {
    isTransactional: () => true,
    getTransactionalId: () => "tx",
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}/${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, increment: number) =>
      sequences.set(`${topic}/${partition}`, (sequences.get(`${topic}/${partition}`) ?? 0) + increment),
    addPartitionsToTransaction: (topicData: { topic: string; partitions: { partition: number }[] }[]) =>
      addPartitionsToTxn({ transactionalId: "tx", producerId: 7, topics: topicData.map(({ topic, partitions }) => ({ topic, partitions: partitions.map((p) => p.partition) })) }),
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

describe("a send step that fails while another broker's Produce request is in flight", () => {
  test("kafkajs alone resends the in-flight batch with advanced sequence numbers: written twice (failed Produce)", async () => {
    const { received } = await sendWithOneFastFailure("produce", false);
    expect(received[2]).toEqual([0, 2]);
  });

  test("kafkajs alone resends the in-flight batch with advanced sequence numbers: written twice (failed AddPartitionsToTxn)", async () => {
    const { received } = await sendWithOneFastFailure("add partitions", false);
    expect(received[2]).toEqual([0, 2]);
  });

  test("a failed Produce request fails once the other has settled: each batch sent once, the failed one again with its own sequence", async () => {
    const { received, sequences } = await sendWithOneFastFailure("produce", true);
    expect(received[2]).toEqual([0]);
    expect(received[1]).toEqual([0, 0]);
    expect(sequences.get("t/0")).toBe(1);
    expect(sequences.get("t/1")).toBe(2);
  });

  test("a failed AddPartitionsToTxn fails once the Produce in flight has settled: each batch sent once", async () => {
    const { received, sequences } = await sendWithOneFastFailure("add partitions", true);
    expect(received[2]).toEqual([0]);
    expect(received[1]).toEqual([0]);
    expect(sequences.get("t/0")).toBe(1);
    expect(sequences.get("t/1")).toBe(2);
  });

  test("a failure waits only for the requests of the same producer", async () => {
    const produces = new InFlightProduces();
    let releaseOther!: () => void;
    const other = new Promise<void>((resolve) => (releaseOther = resolve));
    const slow = produces.produce("tx-b", async () => {
      await other;
      return "answered";
    });
    await expect(produces.produce("tx-a", async () => Promise.reject(new Error("write after end")))).rejects.toThrow("write after end");
    await expect(produces.step("tx-a", async () => Promise.reject(new Error("concurrent")))).rejects.toThrow("concurrent");
    releaseOther();
    expect(await slow).toBe("answered");
  });

  test("two failing requests of one producer both fail, neither waiting for the other forever", async () => {
    const produces = new InFlightProduces();
    const first = produces.produce("tx", () => sleep(20).then(() => Promise.reject(new Error("first"))));
    const second = produces.produce("tx", () => Promise.reject(new Error("second")));
    const [a, b] = await Promise.allSettled([first, second]);
    expect(a.status === "rejected" && (a.reason as Error).message).toBe("first");
    expect(b.status === "rejected" && (b.reason as Error).message).toBe("second");
  });
});
