import { describe, expect, test } from "bun:test";
import { createRequestBatch, oversize, RECORD_OVERHEAD_BYTES } from "../../../src/produce/batch.ts";

const message = (value: string) => ({ key: null, value });

describe("request batches", () => {
  test("an element that would push a batch past the byte limit starts the next request", () => {
    const batch = createRequestBatch(100);
    expect(batch.wouldOverflow(1000)).toBe(false); // an empty batch takes any element
    batch.add(message("a"), 60);
    expect(batch.wouldOverflow(40)).toBe(false);
    expect(batch.wouldOverflow(41)).toBe(true);
  });

  test("a batch is due when full by bytes or when it holds the due count", () => {
    const batch = createRequestBatch(100);
    batch.add(message("a"), 10);
    batch.add(message("b"), 10);
    expect(batch.isDue(3)).toBe(false);
    expect(batch.isDue(2)).toBe(true);
    batch.add(message("c"), 80);
    expect(batch.isDue(1000)).toBe(true);
  });

  test("taking a batch hands over its messages in order and leaves it empty", () => {
    const batch = createRequestBatch(100);
    batch.add(message("a"), 90);
    batch.add(message("b"), 5);
    expect(batch.take().map((m) => m.value)).toEqual(["a", "b"]);
    expect(batch.size).toBe(0);
    expect(batch.wouldOverflow(99)).toBe(false);
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
