/** splitByLeader: one send per leader, every message once, each partition's order kept. */
import { describe, expect, test } from "bun:test";
import type { Message } from "kafkajs";
import { splitByLeader } from "../../../src/kafka/leader-groups.ts";

const m = (partition: number, value: string): Message => ({ partition, value });
// staging partitions 0, 1, 2 led by brokers 1, 2, 3; dead-letter partitions 0, 1 by 2, 1.
const leaders: Record<string, number[]> = { staging: [1, 2, 3], dlq: [2, 1] };
const leaderOf = (topic: string, partition: number) => leaders[topic]?.[partition];

describe("splitByLeader", () => {
  test("messages of partitions with one leader go in one send, across topics", () => {
    const groups = splitByLeader(
      [
        { topic: "staging", messages: [m(0, "a"), m(1, "b"), m(0, "c")] },
        { topic: "dlq", messages: [m(1, "d"), m(0, "e")] },
      ],
      leaderOf,
    );
    expect(groups).toEqual([
      [
        { topic: "staging", messages: [m(0, "a"), m(0, "c")] },
        { topic: "dlq", messages: [m(1, "d")] },
      ],
      [
        { topic: "staging", messages: [m(1, "b")] },
        { topic: "dlq", messages: [m(0, "e")] },
      ],
    ]);
  });

  test("a send to one leader stays one send, with its message objects", () => {
    const messages = [m(0, "a"), m(0, "b")];
    const groups = splitByLeader([{ topic: "staging", messages }], leaderOf);
    expect(groups).toHaveLength(1);
    expect(groups[0]![0]!.messages[1]).toBe(messages[1]!);
  });

  test("partitions without a known leader go together in a send of their own", () => {
    const groups = splitByLeader([{ topic: "new", messages: [m(0, "a"), m(5, "b")] }, { topic: "staging", messages: [m(2, "c")] }], leaderOf);
    expect(groups).toEqual([[{ topic: "new", messages: [m(0, "a"), m(5, "b")] }], [{ topic: "staging", messages: [m(2, "c")] }]]);
  });
});
