import { describe, expect, test } from "bun:test";
import { dueAtMs, dueCount } from "../../../src/produce/pace.ts";

describe("produce pacing", () => {
  test("rate 0 sends full batches without waiting", () => {
    expect(dueAtMs(1_000_000, 0)).toBe(0);
    expect(dueCount(0, 0, 0, 2000)).toBe(2000);
  });

  test("--rate 0.5 spaces messages two seconds apart, like the old tool", () => {
    expect(dueAtMs(0, 0.5)).toBe(0);
    expect(dueAtMs(1, 0.5)).toBe(2000);
    expect(dueAtMs(10, 0.5)).toBe(20_000);
  });

  test("under a rate a request carries only the messages already due, at least one", () => {
    expect(dueCount(0, 0, 100, 2000)).toBe(1);
    expect(dueCount(0, 1000, 100, 2000)).toBe(101);
    expect(dueCount(101, 1000, 100, 2000)).toBe(1);
    expect(dueCount(0, 60_000, 100, 2000)).toBe(2000);
  });
});
