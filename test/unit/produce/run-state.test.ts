import { describe, expect, test } from "bun:test";
import { drained, isFinal, moveTo, type RunState, TRANSITIONS } from "../../../src/produce/run-state.ts";

describe("the producer run's states", () => {
  test("a run goes from starting through publishing and draining to the ending draining names", () => {
    let state: RunState = { name: "starting" };
    state = moveTo(state, { name: "publishing" });
    state = moveTo(state, { name: "draining", ending: "interrupted" });
    expect(drained(state)).toEqual({ name: "interrupted" });
    expect(drained({ name: "draining", ending: "completed" })).toEqual({ name: "completed" });
  });

  test("a run can fail from every state that is not final, and nothing leaves a final state", () => {
    for (const name of ["starting", "publishing", "draining"] as const) expect(TRANSITIONS[name]).toContain("failed");
    for (const name of ["completed", "interrupted", "failed"] as const) {
      expect(TRANSITIONS[name]).toEqual([]);
      expect(isFinal({ name, error: "x" } as RunState)).toBe(true);
    }
    expect(isFinal({ name: "draining", ending: "completed" })).toBe(false);
  });

  test("a run cannot complete without draining its last request first", () => {
    expect(() => moveTo({ name: "publishing" }, { name: "completed" })).toThrow("from publishing to completed");
    expect(() => moveTo({ name: "starting" }, { name: "draining", ending: "completed" })).toThrow();
    expect(() => drained({ name: "publishing" })).toThrow("finish draining from publishing");
  });

  test("a failed run stays failed", () => {
    expect(() => moveTo({ name: "failed", error: "e" }, { name: "completed" })).toThrow();
    expect(() => moveTo({ name: "completed" }, { name: "failed", error: "late" })).toThrow();
  });
});
