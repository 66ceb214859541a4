/**
 * sendCompletely sends again exactly the partitions a send left unanswered (kafkajs' leader-move
 * gap), returns every acknowledgement, and gives up with a retriable KafkaError when a partition
 * is never answered.
 */
import { describe, expect, test } from "bun:test";
import type { Message, RecordMetadata, TopicMessages } from "kafkajs";
import { KafkaError } from "../../../src/errors.ts";
import { SendIncompleteError, sendCompletely } from "../../../src/kafka/complete-send.ts";
import { setVerbosity } from "../../../src/ui/log.ts";

setVerbosity({ quiet: true });

const message = (partition: number, value: string): Message => ({ key: null, value, partition });

/** A fake broker that answers each call for the partitions `answer(call)` allows. */
function fakeSend(answer: (call: number, topic: string, partition: number) => boolean) {
  const calls: TopicMessages[][] = [];
  const send = async (topicMessages: TopicMessages[]): Promise<RecordMetadata[]> => {
    calls.push(topicMessages);
    const call = calls.length;
    return topicMessages.flatMap(({ topic, messages }) =>
      [...new Set(messages.map((m) => m.partition!))]
        .filter((partition) => answer(call, topic, partition))
        .map((partition) => ({ topicName: topic, partition, errorCode: 0, baseOffset: String(call * 100) })),
    );
  };
  return { send, calls };
}

describe("sendCompletely", () => {
  test("a send answered for every partition is sent once", async () => {
    const { send, calls } = fakeSend(() => true);
    const results = await sendCompletely(send, [{ topic: "t", messages: [message(0, "a"), message(1, "b")] }]);
    expect(calls).toHaveLength(1);
    expect(results.map((r) => r.partition).sort()).toEqual([0, 1]);
  });

  test("only the unanswered partitions' messages are sent again, and all acknowledgements are returned", async () => {
    const { send, calls } = fakeSend((call, topic, partition) => call > 1 || !(topic === "s" && partition === 2));
    const results = await sendCompletely(send, [
      { topic: "s", messages: [message(2, "a"), message(0, "b"), message(2, "c")] },
      { topic: "d", messages: [message(2, "x")] },
    ]);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual([{ topic: "s", messages: [message(2, "a"), message(2, "c")] }]);
    expect(results.map((r) => `${r.topicName}/${r.partition}@${r.baseOffset}`).sort()).toEqual(["d/2@100", "s/0@100", "s/2@200"]);
  });

  test("a partition never answered ends in a retriable KafkaError naming it, with the acknowledgements that did come", async () => {
    const { send, calls } = fakeSend((_call, _topic, partition) => partition !== 1);
    const failure = await sendCompletely(send, [{ topic: "t", messages: [message(0, "a"), message(1, "b")] }]).catch((error) => error);
    expect(failure).toBeInstanceOf(SendIncompleteError);
    expect((failure as SendIncompleteError).cause).toBeInstanceOf(KafkaError);
    expect((failure as SendIncompleteError).retriable).toBe(true);
    expect((failure as Error).message).toContain("t[1]");
    expect((failure as SendIncompleteError).answered.map((r) => r.partition)).toEqual([0]);
    expect(calls).toHaveLength(6);
  });

  test("a send that throws after a partial answer still reports the partitions acknowledged before it", async () => {
    let call = 0;
    const send = async (topicMessages: TopicMessages[]): Promise<RecordMetadata[]> => {
      call++;
      if (call === 2) throw Object.assign(new Error("Connection error: connect ECONNREFUSED"), { retriable: true });
      return topicMessages.flatMap(({ topic, messages }) =>
        [...new Set(messages.map((m) => m.partition!))].filter((p) => p !== 2).map((partition) => ({ topicName: topic, partition, errorCode: 0, baseOffset: "7" })),
      );
    };
    const failure = await sendCompletely(send, [{ topic: "t", messages: [message(0, "a"), message(2, "b")] }]).catch((error) => error);
    expect(failure).toBeInstanceOf(SendIncompleteError);
    expect((failure as SendIncompleteError).answered).toEqual([{ topicName: "t", partition: 0, errorCode: 0, baseOffset: "7" }]);
    expect((failure as SendIncompleteError).retriable).toBe(true);
    expect((failure as Error).message).toContain("ECONNREFUSED");
  });
});
