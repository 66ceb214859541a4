/**
 * stream-clean's topic preparation rides out a broker that is still loading its logs (a retriable
 * "does not host this topic-partition" while it creates the staging and dead-letter topics) and
 * fails at once on an error that is not retriable.
 */
import { describe, expect, test } from "bun:test";
import { type Admin, KafkaJSProtocolError } from "kafkajs";
import { createErrorFromCode } from "kafkajs/src/protocol/error.js";
import { prepareTopics } from "../../../src/stream/clean-stream.ts";

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const TOPIC_AUTHORIZATION_FAILED = 29;

function fakeAdmin(failures: number[]) {
  const topics = new Set(["in"]);
  const calls = { createTopics: 0, disconnected: 0 };
  const admin = {
    connect: async () => undefined,
    disconnect: async () => void calls.disconnected++,
    listTopics: async () => [...topics],
    describeConfigs: async () => ({ resources: [{ configEntries: [] }] }),
    createTopics: async ({ topics: wanted }: { topics: { topic: string }[] }) => {
      calls.createTopics++;
      const code = failures.shift();
      if (code !== undefined) throw new KafkaJSProtocolError(createErrorFromCode(code));
      for (const { topic } of wanted) topics.add(topic);
      return true;
    },
    fetchTopicMetadata: async ({ topics: asked }: { topics: string[] }) => ({ topics: asked.map((name) => ({ name, partitions: [{}, {}, {}] })) }),
  };
  return { admin: admin as unknown as Admin, calls };
}

const settings = { inputTopic: "in", stagingTopic: "in_stage", deadLetterTopic: "in_dlq", topicLayout: { partitions: 3, replicationFactor: 1 }, retryLimitMs: 5_000 };

describe("preparing stream-clean's topics", () => {
  test("a retriable failure while creating the topics is tried again, and the run goes on", async () => {
    const { admin, calls } = fakeAdmin([UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION]);
    expect(await prepareTopics(admin, settings)).toEqual({ staging: 3, deadLetter: 3 });
    expect(calls.createTopics).toBe(3);
  });

  test("a failure that is not retriable ends it at once, naming the step", async () => {
    const { admin, calls } = fakeAdmin([TOPIC_AUTHORIZATION_FAILED]);
    await expect(prepareTopics(admin, settings)).rejects.toThrow(/cannot create topics/);
    expect(calls.createTopics).toBe(1);
    expect(calls.disconnected).toBe(1);
  });
});
