import { describe, expect, test } from "bun:test";
import { type CycleState, VALID_TRANSITIONS, isTerminal, transition } from "../../../src/stream/cycle-states.ts";

const states = Object.keys(VALID_TRANSITIONS) as CycleState[];

describe("the cycle's states", () => {
  test("a cycle commits only from open, through committing", () => {
    expect(states.filter((from) => VALID_TRANSITIONS[from].includes("committing"))).toEqual(["open"]);
    expect(transition("open", "committing", 1)).toBe("committing");
  });

  test("a step the table does not allow throws, naming the partition", () => {
    expect(() => transition("idle", "committing", 4)).toThrow("partition 4: a cycle cannot go from idle to committing");
    expect(() => transition("broken", "open", 4)).toThrow(/broken to open/);
    expect(() => transition("closed", "closed", 4)).toThrow(/closed to closed/);
  });

  test("broken, fenced and failed cycles lead only to closed", () => {
    expect(VALID_TRANSITIONS.broken).toEqual(["closed"]);
    expect(VALID_TRANSITIONS.fenced).toEqual(["closed"]);
    expect(VALID_TRANSITIONS.failed).toEqual(["closed"]);
    expect(states.filter(isTerminal)).toEqual(["broken", "fenced", "failed", "closed"]);
  });

  test("every state but closed can be closed", () => {
    for (const from of states) expect(VALID_TRANSITIONS[from].includes("closed")).toBe(from !== "closed");
  });
});
