/**
 * The committed offset read with require_stable, on the real broker: while a transaction holds
 * offsets for the group it must not answer (the coordinator says UNSTABLE_OFFSET_COMMIT and the
 * read retries); once the transaction commits it answers the transaction's offset, once it aborts
 * the offset from before. kafkajs' own fetchOffsets, asked meanwhile, answers the old offset at
 * once: that is what the stable read exists to avoid, and it shows this test tells them apart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { committedOffsets, readUnstable } from "../../src/kafka/offsets.ts";
import { installKafkajsPatches } from "../../src/kafka/patches.ts";
import { BROKER } from "./harness.ts";

installKafkajsPatches();

const kafka = new Kafka({ clientId: "kstream-it-stable", brokers: [BROKER], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const run = `${Date.now()}-${process.pid}`;
const topic = `stable-offsets-${run}`;
const producers: Producer[] = [];

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await coordinatorsReady();
});

/** On a fresh broker the group coordinator answers NOT_COORDINATOR until __consumer_offsets has loaded: wait for one transactional offset commit to pass. */
async function coordinatorsReady(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const producer = await transactionalProducer(`warm-up-${attempt}`);
    const transaction = await producer.transaction();
    try {
      await transaction.sendOffsets({ consumerGroupId: `stable-warm-up-${run}`, topics: [{ topic, partitions: [{ partition: 0, offset: "0" }] }] });
      await transaction.commit();
      return;
    } catch (error) {
      await transaction.abort().catch(() => {});
      if (attempt >= 30 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await Bun.sleep(1_000);
    }
  }
}

afterAll(async () => {
  for (const producer of producers) await producer.disconnect().catch(() => {});
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

async function transactionalProducer(id: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId: `stable-offsets-${run}-${id}`, idempotent: true, maxInFlightRequests: 1 });
  producers.push(producer);
  await producer.connect();
  return producer;
}

/** Commits `offset` for partition 0 of `group` in a transaction, and leaves it open: the caller ends it. */
async function openOffsetTransaction(producer: Producer, group: string, offset: number) {
  const transaction = await producer.transaction();
  await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: String(offset) }] }] });
  return transaction;
}

async function committedThroughTransaction(group: string, offset: number): Promise<void> {
  const producer = await transactionalProducer(`${group}-first`);
  await (await openOffsetTransaction(producer, group, offset)).commit();
}

/** The stable read started now, with when it answered. */
function stableRead(group: string) {
  return committedOffsets(admin, group, topic, undefined, 60_000).then((offsets) => ({ offset: offsets.get(0), at: Date.now() }));
}

describe("the committed offset read with require_stable", () => {
  test("waits for an open transaction's offsets and answers them once it commits", async () => {
    const group = `stable-commit-${run}`;
    await committedThroughTransaction(group, 4);
    const producer = await transactionalProducer(`${group}-second`);
    const transaction = await openOffsetTransaction(producer, group, 10);

    expect((await readUnstable(admin, group, topic)).get(0)).toBe(4n);
    const read = stableRead(group);
    await Bun.sleep(2_000);
    const committedAt = Date.now();
    await transaction.commit();
    const { offset, at } = await read;
    expect(offset).toBe(10n);
    expect(at).toBeGreaterThanOrEqual(committedAt);
  }, 60_000);

  test("answers the offset from before once the open transaction aborts", async () => {
    const group = `stable-abort-${run}`;
    await committedThroughTransaction(group, 4);
    const producer = await transactionalProducer(`${group}-second`);
    const transaction = await openOffsetTransaction(producer, group, 10);

    expect((await readUnstable(admin, group, topic)).get(0)).toBe(4n);
    const read = stableRead(group);
    await Bun.sleep(2_000);
    const abortedAt = Date.now();
    await transaction.abort();
    const { offset, at } = await read;
    expect(offset).toBe(4n);
    expect(at).toBeGreaterThanOrEqual(abortedAt);
  }, 60_000);

  test("a group that never committed reads as the low watermark", async () => {
    expect((await committedOffsets(admin, `stable-never-${run}`, topic, undefined, 10_000)).get(0)).toBe(0n);
  });
});
