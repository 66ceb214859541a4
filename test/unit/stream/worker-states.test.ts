import { describe, expect, test } from "bun:test";
import { WORKER_TRANSITIONS, type WorkerState, takesRequests, workerTransition } from "../../../src/stream/worker-states.ts";
import { defaultWorkerCount, workerUrl } from "../../../src/stream/clean-pool.ts";

const states = Object.keys(WORKER_TRANSITIONS) as WorkerState[];

describe("a clean worker's states", () => {
  test("only a starting or ready worker takes requests", () => {
    expect(states.filter(takesRequests)).toEqual(["starting", "ready"]);
  });

  test("a failed worker never becomes ready again; it can only be closed", () => {
    expect(WORKER_TRANSITIONS.failed).toEqual(["closed"]);
    expect(() => workerTransition("failed", "ready")).toThrow("a clean worker cannot go from failed to ready");
  });

  test("a closed worker goes nowhere", () => {
    expect(WORKER_TRANSITIONS.closed).toEqual([]);
    expect(() => workerTransition("closed", "failed")).toThrow(/closed to failed/);
  });

  test("every state but closed can fail or be closed", () => {
    for (const from of states.filter((state) => state !== "closed")) expect(WORKER_TRANSITIONS[from]).toContain("closed");
    for (const from of ["starting", "ready"] as const) expect(workerTransition(from, "failed")).toBe("failed");
  });
});

describe("the clean pool", () => {
  test("one or two cores clean in the main thread; more give one worker per core beyond it", () => {
    expect([defaultWorkerCount(1), defaultWorkerCount(2), defaultWorkerCount(3), defaultWorkerCount(8)]).toEqual([0, 0, 2, 7]);
  });

  test("the worker is found beside the pool from source and below the root of a compiled binary", () => {
    expect(workerUrl("file:///src/kstream/src/stream/clean-pool.ts").href).toBe("file:///src/kstream/src/stream/clean-worker.ts");
    expect(workerUrl("file:///$bunfs/root/kstream").href).toBe("file:///$bunfs/root/stream/clean-worker.ts");
  });
});
