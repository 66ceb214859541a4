/**
 * Messages marked by partitionedMessages() are grouped by kafkajs exactly as before (same
 * partitions, same order within each), only in one pass; unmarked uses of reduce are untouched.
 */
import { describe, expect, test } from "bun:test";
import type { Message } from "kafkajs";
import groupMessagesPerPartition from "kafkajs/src/producer/groupMessagesPerPartition.js";
import { DefaultPartitioner } from "../../../src/kafka/partitioner.ts";
import { partitionGroups, partitionedMessages } from "../../../src/kafka/partitioned-messages.ts";

const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

function messages(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: (i * 7) % 3 }));
}

describe("linear grouping of partitioned messages", () => {
  test("kafkajs' groupMessagesPerPartition gives the same groups, in the same order", () => {
    const plain = messages(2500);
    const marked = partitionedMessages(messages(2500));
    const args = { topic: "t", partitionMetadata, partitioner: DefaultPartitioner() };
    expect(groupMessagesPerPartition({ ...args, messages: marked })).toEqual(groupMessagesPerPartition({ ...args, messages: plain }));
  });

  test("each call returns fresh arrays, as kafkajs' retries expect", () => {
    const marked = partitionedMessages(messages(10));
    const args = { topic: "t", partitionMetadata, partitioner: DefaultPartitioner(), messages: marked };
    const first = groupMessagesPerPartition(args);
    const second = groupMessagesPerPartition(args);
    expect(first[0]).not.toBe(second[0]);
    expect(first).toEqual(second);
  });

  test("other reductions, and messages without a partition, use the standard reduce", () => {
    const marked = partitionedMessages(messages(10));
    expect(marked.reduce((sum, m) => sum + Number(m.partition), 0)).toBe(messages(10).reduce((sum, m) => sum + Number(m.partition), 0));
    const unpartitioned = partitionedMessages([{ key: "a", value: "1" }, { key: "b", value: "2" }]);
    const args = { topic: "t", partitionMetadata, partitioner: DefaultPartitioner() };
    expect(groupMessagesPerPartition({ ...args, messages: unpartitioned })).toEqual(
      groupMessagesPerPartition({ ...args, messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }] }),
    );
  });

  test("the mark is invisible to iteration and JSON", () => {
    const marked = partitionedMessages(messages(3));
    expect(Object.keys(marked)).toEqual(["0", "1", "2"]);
    expect(JSON.stringify(marked)).toBe(JSON.stringify(messages(3)));
  });

  test("partitionGroups holds the same messages, in the same order, as each of kafkajs' partition groups", () => {
    const all = messages(2500);
    const args = { topic: "t", partitionMetadata, partitioner: DefaultPartitioner(), messages: all };
    const kafkajs = Object.values(groupMessagesPerPartition(args)) as Message[][];
    const ours = partitionGroups(all);
    expect(ours).toHaveLength(3);
    for (const group of ours) {
      const theirs = kafkajs.find((candidate) => candidate[0] === group[0])!;
      expect(theirs).toHaveLength(group.length);
      theirs.forEach((message, i) => expect(message).toBe(group[i]!));
    }
  });
});
