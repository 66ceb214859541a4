import { describe, expect, test } from "bun:test";
import { createRequestBatch, MAX_PARTITION_BYTES, MAX_REQUEST_BYTES, oversize, RECORD_OVERHEAD_BYTES } from "../../../src/produce/batch.ts";

const message = (value: string) => ({ key: null, value });

describe("request batches", () => {
  const bounds = { partitionBytes: 100, requestBytes: 250 };

  test("an element that would push its partition's batch past the byte bound starts the next request", () => {
    const batch = createRequestBatch(bounds);
    expect(batch.wouldOverflow(0, 1000)).toBe(false); // an empty batch takes any element
    batch.add(message("a"), 0, 60);
    expect(batch.wouldOverflow(0, 40)).toBe(false);
    expect(batch.wouldOverflow(0, 41)).toBe(true);
  });

  test("each partition's batch has its own bound: other partitions still take elements", () => {
    const batch = createRequestBatch(bounds);
    batch.add(message("a"), 0, 90);
    expect(batch.wouldOverflow(0, 20)).toBe(true);
    expect(batch.wouldOverflow(1, 90)).toBe(false);
    batch.add(message("b"), 1, 90);
    expect(batch.wouldOverflow(2, 70)).toBe(false);
  });

  test("the request as a whole has a bound over all its partitions", () => {
    const batch = createRequestBatch(bounds);
    batch.add(message("a"), 0, 90);
    batch.add(message("b"), 1, 90);
    expect(batch.wouldOverflow(2, 70)).toBe(false);
    expect(batch.wouldOverflow(2, 71)).toBe(true);
  });

  test("a batch is due when it holds the due count", () => {
    const batch = createRequestBatch(bounds);
    batch.add(message("a"), 0, 10);
    batch.add(message("b"), 1, 10);
    expect(batch.isDue(3)).toBe(false);
    expect(batch.isDue(2)).toBe(true);
  });

  test("a batch is due as soon as one partition's batch is full, however few messages it holds", () => {
    const batch = createRequestBatch(bounds);
    batch.add(message("a"), 1, 50);
    expect(batch.isDue(1000)).toBe(false);
    batch.add(message("b"), 1, 50);
    expect(batch.isDue(1000)).toBe(true);
  });

  test("a batch is due when the request is full by bytes, though no partition's batch is", () => {
    const batch = createRequestBatch(bounds);
    for (const partition of [0, 1, 2]) batch.add(message(String(partition)), partition, 80);
    expect(batch.isDue(1000)).toBe(false);
    batch.add(message("d"), 3, 10);
    expect(batch.isDue(1000)).toBe(true);
  });

  test("taking a batch hands over its messages in order and leaves it empty, every partition's count back at zero", () => {
    const batch = createRequestBatch(bounds);
    batch.add(message("a"), 0, 90);
    batch.add(message("b"), 0, 10);
    expect(batch.isDue(1000)).toBe(true);
    expect(batch.take().map((m) => m.value)).toEqual(["a", "b"]);
    expect(batch.size).toBe(0);
    expect(batch.isDue(1000)).toBe(false);
    batch.add(message("c"), 0, 1);
    expect(batch.wouldOverflow(0, 99)).toBe(false);
  });

  test("the default bounds keep a partition's batch at half the broker's 1 MB limit and a request at 2 MiB", () => {
    expect(MAX_PARTITION_BYTES).toBe(512 * 1024);
    expect(MAX_REQUEST_BYTES).toBe(2 * 1024 * 1024);
    const batch = createRequestBatch();
    batch.add(message("a"), 0, MAX_PARTITION_BYTES - 1);
    expect(batch.wouldOverflow(0, 2)).toBe(true);
    expect(batch.wouldOverflow(1, MAX_PARTITION_BYTES)).toBe(false);
  });
});

describe("oversize elements", () => {
  const utf8 = (text: string) => Buffer.from(text, "utf8");

  test("an element whose record fits the topic limit is accepted", () => {
    expect(oversize(utf8('{"a":1}'), utf8("1"), 1_000_000)).toBeUndefined();
  });

  test("an element over the limit reports its record's size, counting key, value and overhead in UTF-8 bytes", () => {
    const json = `{"s":"${"é".repeat(500)}"}`;
    const size = oversize(utf8(json), utf8("k"), 1000);
    expect(size).toBe(Buffer.byteLength(json) + 1 + RECORD_OVERHEAD_BYTES);
  });

  test("a record exactly at the limit is accepted, one byte more is not", () => {
    const limit = 10 + RECORD_OVERHEAD_BYTES;
    expect(oversize(utf8('{"a":1234}'), undefined, limit)).toBeUndefined();
    expect(oversize(utf8('{"a":12345}'), undefined, limit)).toBe(limit + 1);
  });

  test("nothing is oversize for a sink without a limit", () => {
    expect(oversize(Buffer.alloc(10_000_000), undefined, Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});
