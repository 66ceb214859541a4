import { describe, expect, test } from "bun:test";
import { positionAfterBatch } from "../../../src/stream/fetch-position.ts";

describe("positionAfterBatch (read_committed spans with filtered records)", () => {
  test("a batch whose last record is a commit marker moves the position past the marker", () => {
    // data 0..4 delivered, commit marker at 5 filtered by kafkajs
    expect(positionAfterBatch(0n, 5n, { firstOffset: "0", lastOffset: "5" })).toBe(6n);
  });

  test("a fetch of only an aborted transaction and its abort marker moves the position past both", () => {
    expect(positionAfterBatch(6n, 6n, { firstOffset: "6", lastOffset: "10" })).toBe(11n);
  });

  test("a batch that ends in data leaves the position one past that data record", () => {
    expect(positionAfterBatch(0n, 8n, { firstOffset: "0", lastOffset: "7" })).toBe(8n);
  });

  test("a gap before the span is never jumped over: unprocessed data may lie there", () => {
    expect(positionAfterBatch(3n, 3n, { firstOffset: "6", lastOffset: "10" })).toBe(3n);
  });

  test("a fetch that decoded nothing at or past its offset leaves the position alone", () => {
    expect(positionAfterBatch(4n, 4n, { firstOffset: null, lastOffset: "4" })).toBe(4n);
  });

  test("a span already behind the position (read again after a restart) never moves it backwards", () => {
    expect(positionAfterBatch(20n, 20n, { firstOffset: "5", lastOffset: "9" })).toBe(20n);
  });
});
