import { describe, expect, test } from "bun:test";
import { KafkaError } from "../../../src/errors.ts";
import type { CycleState } from "../../../src/stream/cycle-states.ts";
import { type HealthCycle, type HealthView, judgeHealth, partitionViews, STUCK_AFTER_MS } from "../../../src/stream/health.ts";
import { Slots } from "../../../src/stream/slots.ts";

const member = { state: "member" } as const;
const working = (partition: number, cycle: CycleState = "idle") => ({ partition, slot: "ready", cycle }) as const;
const view = (partial: Partial<HealthView>): HealthView => ({ fileMaxAgeMs: 30_000, stopping: false, group: member, partitions: [], ...partial });

describe("stream-clean's health", () => {
  test("is 200 while every assigned partition's cycle is idle, open or committing", () => {
    const health = judgeHealth(view({ partitions: [working(2, "committing"), working(0), working(1, "open")] }));
    expect(health).toEqual({ status: 200, partitions: { 0: "working", 1: "working", 2: "working" } });
  });

  test("is 200 for a member with no partitions: nothing assigned to it is undone", () => {
    expect(judgeHealth(view({})).status).toBe(200);
  });

  test("is 503 before the first assignment, and while the consumer rejoins after a crash", () => {
    expect(judgeHealth(view({ group: { state: "joining" } }))).toMatchObject({ status: 503, reason: "joining the consumer group (no partitions assigned yet)" });
    const rejoining = judgeHealth(view({ group: { state: "rejoining", error: "Connection error: connect ECONNREFUSED" }, partitions: [working(0)] }));
    expect(rejoining).toMatchObject({ status: 503, reason: "rejoining the consumer group after: Connection error: connect ECONNREFUSED", partitions: { 0: "working" } });
  });

  test("is 503 naming each partition whose worker is starting, failed to start, or is being replaced", () => {
    const health = judgeHealth(
      view({
        partitions: [working(0), { partition: 1, slot: "starting" }, { partition: 2, slot: "failed", error: "cannot start the transactional producer" }, { partition: 3, slot: "retiring" }],
      }),
    );
    expect(health.status).toBe(503);
    expect(health.reason).toBe(
      "partition 1: starting (its transactional producer, committed offset and recovery); partition 2: could not start, trying again: cannot start the transactional producer; partition 3: being replaced",
    );
    expect(health.partitions[0]).toBe("working");
  });

  test("is 503 for a cycle broken (commit in doubt), failed (commit refused) or closed", () => {
    const health = judgeHealth(
      view({
        partitions: [
          { partition: 0, slot: "ready", cycle: "broken", error: "cannot commit the cycle: Closed connection" },
          { partition: 1, slot: "ready", cycle: "failed", error: "fenced" },
          { partition: 2, slot: "ready", cycle: "closed" },
        ],
      }),
    );
    expect(health.partitions).toEqual({
      0: "commit in doubt, restarting from the committed offset: cannot commit the cycle: Closed connection",
      1: "commit refused: fenced",
      2: "closed",
    });
  });

  test("a cycle open past file_max_age plus the grace, or committing past the grace, is stuck: 503 saying for how long", () => {
    const within = judgeHealth(view({ partitions: [{ ...working(0, "open"), stateForMs: 30_000 + STUCK_AFTER_MS }, { ...working(1, "committing"), stateForMs: STUCK_AFTER_MS }] }));
    expect(within.status).toBe(200);
    const stuck = judgeHealth(view({ partitions: [{ ...working(0, "open"), stateForMs: 41_000 }, { ...working(1, "committing"), stateForMs: 12_400 }, { ...working(2, "idle"), stateForMs: 3_600_000 }] }));
    expect(stuck.status).toBe(503);
    expect(stuck.partitions).toEqual({
      0: "open for 41 s, past clean.file_max_age: its sends or its end are being retried",
      1: "committing for 12 s: its commit is being retried",
      2: "working",
    });
  });

  test("is 503 when no fetch has been answered for longer than the grace, even with every cycle idle", () => {
    expect(judgeHealth(view({ sinceLastFetchMs: STUCK_AFTER_MS, partitions: [working(0)] })).status).toBe(200);
    expect(judgeHealth(view({ sinceLastFetchMs: 25_000, partitions: [working(0)] }))).toMatchObject({
      status: 503,
      reason: "no fetch answered for 25 s (the brokers are being retried)",
      partitions: { 0: "working" },
    });
    // A member with nothing assigned fetches nothing: that is no outage.
    expect(judgeHealth(view({ sinceLastFetchMs: 25_000 })).status).toBe(200);
  });

  test("is 503 while the run stops, whatever the partitions", () => {
    expect(judgeHealth(view({ stopping: true, partitions: [working(0)] }))).toMatchObject({ status: 503, reason: "stopping" });
  });

  test("keeps the reason on one line when an error spans several", () => {
    const health = judgeHealth(view({ partitions: [{ partition: 0, slot: "failed", error: "first\n  second" }] }));
    expect(health.reason).toBe("partition 0: could not start, trying again: first second");
  });
});

describe("the health view of the slots", () => {
  test("shows each slot's state, a ready slot's cycle and the error behind a failed start or a broken cycle", async () => {
    const slots = new Slots<HealthCycle>();
    const broken: HealthCycle = { state: "broken", stateSince: 9_000, failure: new KafkaError("cannot commit the cycle") };
    slots.start(0, Promise.resolve({ state: "open", stateSince: 4_000, failure: undefined }));
    slots.start(1, Promise.resolve(broken));
    slots.start(2, Promise.reject(new KafkaError("cannot start the transactional producer")));
    const starting = slots.start(3, new Promise<HealthCycle>(() => {}));
    await Promise.all(slots.all().filter((slot) => slot !== starting).map((slot) => slot.settled));
    expect(partitionViews(slots.all(), 10_000)).toEqual([
      { partition: 0, slot: "ready", cycle: "open", stateForMs: 6_000 },
      { partition: 1, slot: "ready", cycle: "broken", stateForMs: 1_000, error: "cannot commit the cycle" },
      { partition: 2, slot: "failed", error: "cannot start the transactional producer" },
      { partition: 3, slot: "starting" },
    ]);
  });
});
