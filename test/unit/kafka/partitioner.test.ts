/**
 * kstream's murmur2 partitioner puts every key on the partition kafkajs' (and so Java's) default
 * partitioner picks, and spreads keyless messages round-robin over partitions that have a leader.
 */
import { describe, expect, test } from "bun:test";
import { Partitioners } from "kafkajs";
import { DefaultPartitioner, partitionForKey } from "../../../src/kafka/partitioner.ts";

const metadata = (count: number, leaderless: number[] = []) =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

describe("default partitioner", () => {
  test("every key lands where kafkajs' own murmur2 partitioner puts it", () => {
    const theirs = Partitioners.DefaultPartitioner();
    const keys = ["", "a", "ab", "abc", "abcd", "abcde", "42", "user-123456", "ünïcødé ☃", "x".repeat(1000)];
    for (let i = 0; i < 5000; i++) keys.push(String(Math.floor(Math.random() * 1e12)), Math.random().toString(36).repeat(1 + (i % 5)));
    for (const count of [1, 3, 6, 7, 100]) {
      for (const key of keys) {
        const expected = theirs({ topic: "t", partitionMetadata: metadata(count), message: { key, value: null } });
        expect(partitionForKey(key, count)).toBe(expected);
        expect(partitionForKey(Buffer.from(key), count)).toBe(expected);
      }
    }
  });

  test("an explicit partition wins; keyless messages go round-robin over partitions with a leader", () => {
    const choose = DefaultPartitioner();
    expect(choose({ topic: "t", partitionMetadata: metadata(3), message: { key: "k", value: null, partition: 2 } })).toBe(2);
    const seen = Array.from({ length: 12 }, () => choose({ topic: "t", partitionMetadata: metadata(4, [1]), message: { value: "v" } }));
    expect(new Set(seen)).toEqual(new Set([0, 2, 3]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });
});
