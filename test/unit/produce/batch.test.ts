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
  test("an element whose record fits the topic limit is not measured further", () => {
    expect(oversize('{"a":1}', "1", 7, 1_000_000)).toBeUndefined();
  });

  test("an element over the limit reports its record's size, counting key, value and overhead in UTF-8 bytes", () => {
    const json = `{"s":"${"é".repeat(500)}"}`;
    const size = oversize(json, "k", json.length, 1000);
    expect(size).toBe(Buffer.byteLength(json) + 1 + RECORD_OVERHEAD_BYTES);
  });

  test("a big source element whose compact JSON fits is accepted", () => {
    // 2000 bytes in the file, mostly white space, 10 bytes of JSON.
    expect(oversize('{"a":1234}', undefined, 2000, 10 + RECORD_OVERHEAD_BYTES)).toBeUndefined();
  });

  test("nothing is oversize for a sink without a limit", () => {
    expect(oversize("x".repeat(10_000_000), undefined, 10_000_000, Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});
