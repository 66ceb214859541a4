/**
 * Group statuses over a window of samples and the `--fail-if-*` thresholds
 * (src/metrics/health.ts), fed hand-made samples through buildReport as the observer does.
 */
import { describe, expect, test } from "bun:test";
import { findBreaches, groupStatus, hasThresholds, observeGroup } from "../../../src/metrics/health.ts";
import { buildReport } from "../../../src/metrics/report.ts";
import type { GroupSample, Sample } from "../../../src/metrics/types.ts";

const member: GroupSample["members"][number] = { memberId: "m-1", clientId: "kstream", host: "/127.0.0.1", assignment: { in: [0, 1] } };

/** One topic "in" with two partitions (low 0), one group "g" with the given committed offsets. */
function sample(takenAt: number, highs: [number, number], committed: [number | null, number | null], members = [member], isr = [1, 2]): Sample {
  return {
    takenAt,
    clusterId: "c1",
    controllerId: 1,
    brokers: [{ id: 1, host: "127.0.0.1", port: 9092 }],
    topics: [{ name: "in", partitions: highs.map((high, i) => ({ partition: i, leader: 1, replicas: [1, 2], isr: i === 0 ? isr : [1, 2], offline: [], low: 0, high })) }],
    groups: [{ groupId: "g", state: members.length ? "Stable" : "Empty", protocolType: "consumer", members, committed: committed.map((c, i) => ({ topic: "in", partition: i, committed: c })) }],
  };
}

/** The status buildReport gives group "g" when `samples` (oldest first) are the window and the last is now. */
function statusOver(samples: Sample[]): string {
  const current = samples.at(-1)!;
  return buildReport({ previous: samples.at(-2), current, topics: ["in"], timestamps: new Map(), window: samples.slice(0, -1) }).groups[0]!.status;
}

describe("group status", () => {
  test("a group that commits and keeps its lag level or falling is OK", () => {
    expect(statusOver([sample(0, [100, 100], [50, 50]), sample(10_000, [150, 150], [120, 130])])).toBe("OK");
    expect(statusOver([sample(0, [100, 100], [100, 100]), sample(10_000, [100, 100], [100, 100])])).toBe("OK");
  });

  test("a group with no members is STOPPED, whatever its lag or its past", () => {
    expect(statusOver([sample(0, [100, 100], [100, 100]), sample(10_000, [100, 100], [100, 100], [])])).toBe("STOPPED");
    expect(statusOver([sample(0, [100, 100], [10, 10], []), sample(10_000, [900, 900], [10, 10], [])])).toBe("STOPPED");
  });

  test("a member whose committed offsets do not move across the window while lag remains is STALLED", () => {
    const window = [sample(0, [100, 100], [40, 40]), sample(20_000, [100, 120], [40, 40]), sample(40_000, [100, 140], [40, 40])];
    expect(statusOver(window)).toBe("STALLED");
  });

  test("one committed offset moving anywhere in the window is progress, not a stall", () => {
    const window = [sample(0, [100, 100], [40, 40]), sample(20_000, [100, 100], [60, 40]), sample(40_000, [100, 100], [60, 40])];
    expect(statusOver(window)).toBe("OK");
  });

  test("a member that commits but whose lag grows from the start of the window is LAGGING", () => {
    const window = [sample(0, [100, 100], [90, 90]), sample(20_000, [300, 300], [150, 150]), sample(40_000, [500, 500], [200, 200])];
    expect(statusOver(window)).toBe("LAGGING");
  });

  test("the status compares with the oldest sample of the window, not only the previous one", () => {
    // Lag 20 -> 500 -> 400: down since the previous sample, up over the window.
    const window = [sample(0, [100, 100], [90, 90]), sample(20_000, [500, 500], [250, 250]), sample(40_000, [600, 600], [400, 400])];
    expect(statusOver(window)).toBe("LAGGING");
    expect(statusOver(window.slice(1))).toBe("OK");
  });

  test("a group first seen now has one observation: OK or STOPPED, never judged on movement", () => {
    expect(groupStatus([observeGroup(0, 1, [{ topic: "in", partition: 0, committed: 5, lag: 100 }])])).toBe("OK");
    expect(groupStatus([observeGroup(0, 0, [{ topic: "in", partition: 0, committed: 5, lag: 100 }])])).toBe("STOPPED");
    const report = buildReport({ previous: undefined, current: sample(0, [100, 100], [0, 0]), topics: ["in"], timestamps: new Map() });
    expect(report.groups[0]!.status).toBe("OK");
    expect(report.status_window_seconds).toBe(0);
  });

  test("the report says how many seconds of samples the statuses were judged over", () => {
    const report = buildReport({ previous: sample(30_000, [1, 1], [1, 1]), current: sample(45_000, [1, 1], [1, 1]), topics: ["in"], timestamps: new Map(), window: [sample(0, [1, 1], [1, 1]), sample(30_000, [1, 1], [1, 1])] });
    expect(report.status_window_seconds).toBe(45);
    expect(report.interval_seconds).toBe(15);
  });
});

describe("thresholds", () => {
  const lagging = buildReport({ previous: undefined, current: sample(0, [500, 500], [300, 400], [], [1]), topics: ["in"], timestamps: new Map([["in/0", -30_000], ["in/1", -5_000]]) });

  test("no threshold set, no breach", () => {
    expect(hasThresholds({})).toBe(false);
    expect(findBreaches(lagging, {})).toEqual([]);
  });

  test("lag above N is a breach naming the group, its lag and N; lag equal to N is not", () => {
    expect(findBreaches(lagging, { lag: 299 })).toEqual([
      { check: "lag", group: "g", topic: null, value: 300, threshold: 299, message: "group g: lag 300 messages is above 299 (--fail-if-lag)" },
    ]);
    expect(findBreaches(lagging, { lag: 300 })).toEqual([]);
  });

  test("lag in seconds compares the oldest unconsumed record's age with S", () => {
    const breaches = findBreaches(lagging, { lagSeconds: 20 });
    expect(breaches.map((b) => [b.check, b.value, b.threshold])).toEqual([["lag_seconds", 30, 20]]);
    expect(findBreaches(lagging, { lagSeconds: 30 })).toEqual([]);
  });

  test("an age that could not be read is not a breach of --fail-if-lag-seconds", () => {
    const unknown = buildReport({ previous: undefined, current: sample(0, [500, 500], [300, 400]), topics: ["in"], timestamps: new Map() });
    expect(unknown.groups[0]!.lag_seconds_max).toBeNull();
    expect(findBreaches(unknown, { lagSeconds: 0 })).toEqual([]);
  });

  test("a group without members, or one that does not exist, breaches --fail-if-group-empty", () => {
    const breaches = findBreaches(lagging, { groupEmpty: true }, ["never-started"]);
    expect(breaches.map((b) => [b.check, b.group])).toEqual([
      ["group_empty", "g"],
      ["group_empty", "never-started"],
    ]);
    const running = buildReport({ previous: undefined, current: sample(0, [1, 1], [1, 1]), topics: ["in"], timestamps: new Map() });
    expect(findBreaches(running, { groupEmpty: true })).toEqual([]);
  });

  test("a topic with fewer in-sync replicas than replicas breaches --fail-if-under-replicated, naming its partitions", () => {
    expect(findBreaches(lagging, { underReplicated: true })).toEqual([
      { check: "under_replicated", group: null, topic: "in", value: 1, threshold: null, message: "topic in: 1 under-replicated partition (0) (--fail-if-under-replicated)" },
    ]);
    const healthy = buildReport({ previous: undefined, current: sample(0, [1, 1], [1, 1]), topics: ["in"], timestamps: new Map() });
    expect(findBreaches(healthy, { underReplicated: true })).toEqual([]);
  });

  test("thresholds combine: every breach is listed, groups before topics", () => {
    const all = findBreaches(lagging, { lag: 0, lagSeconds: 0, groupEmpty: true, underReplicated: true });
    expect(all.map((b) => b.check)).toEqual(["lag", "lag_seconds", "group_empty", "under_replicated"]);
  });
});
