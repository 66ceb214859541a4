/**
 * The arithmetic of `kstream metrics` (src/metrics/report.ts) on hand-made samples: counts,
 * rates from two samples, lag in messages and seconds, catch-up estimate, under-replication.
 */
import { describe, expect, test } from "bun:test";
import { buildReport, groupPositions, oldestUnconsumed } from "../../../src/metrics/report.ts";
import type { GroupSample, PartitionSample, Sample } from "../../../src/metrics/types.ts";

const partition = (id: number, low: number, high: number, extra: Partial<PartitionSample> = {}): PartitionSample => ({
  partition: id,
  leader: 1,
  replicas: [1],
  isr: [1],
  offline: [],
  low,
  high,
  ...extra,
});

function sample(takenAt: number, highs: number[], committed: (number | null)[], members: GroupSample["members"] = []): Sample {
  return {
    takenAt,
    clusterId: "c1",
    controllerId: 2,
    brokers: [
      { id: 2, host: "127.0.0.1", port: 9094 },
      { id: 1, host: "127.0.0.1", port: 9092 },
    ],
    topics: [{ name: "in", partitions: highs.map((high, i) => partition(i, 10, high)) }],
    groups: [
      {
        groupId: "g",
        state: "Stable",
        protocolType: "consumer",
        members,
        committed: committed.map((offset, i) => ({ topic: "in", partition: i, committed: offset })),
      },
    ],
  };
}

describe("metrics report", () => {
  test("message counts are high minus low watermark, per partition and per topic", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [110, 60], [110, 60]), topics: ["in"], timestamps: new Map() });
    expect(report.topics[0]!.partitions.map((p) => p.messages)).toEqual([100, 50]);
    expect(report.topics[0]!.messages).toBe(150);
    expect(report.topics[0]!.partition_count).toBe(2);
  });

  test("brokers are listed by id and the controller is flagged", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [10], [10]), topics: ["in"], timestamps: new Map() });
    expect(report.cluster.brokers).toEqual([
      { id: 1, host: "127.0.0.1", port: 9092, is_controller: false },
      { id: 2, host: "127.0.0.1", port: 9094, is_controller: true },
    ]);
  });

  test("messages in per second come from the high watermarks of two samples", () => {
    const report = buildReport({
      previous: sample(1_000, [110, 60], [110, 60]),
      current: sample(3_000, [310, 80], [110, 60]),
      topics: ["in"],
      timestamps: new Map(),
    });
    expect(report.interval_seconds).toBe(2);
    expect(report.topics[0]!.partitions.map((p) => p.messages_in_per_second)).toEqual([100, 10]);
    expect(report.topics[0]!.messages_in_per_second).toBe(110);
  });

  test("without a previous sample, or with no new messages, rates are zero", () => {
    expect(buildReport({ previous: undefined, current: sample(0, [110], [110]), topics: ["in"], timestamps: new Map() }).topics[0]!.messages_in_per_second).toBe(0);
    const idle = buildReport({ previous: sample(0, [110], [50]), current: sample(1000, [110], [50]), topics: ["in"], timestamps: new Map() });
    expect(idle.topics[0]!.messages_in_per_second).toBe(0);
    expect(idle.groups[0]!.consumed_per_second).toBe(0);
  });

  test("a topic recreated between samples (high watermark went down) never gives a negative rate", () => {
    const report = buildReport({ previous: sample(0, [500], [500]), current: sample(1000, [20], [20]), topics: ["in"], timestamps: new Map() });
    expect(report.topics[0]!.messages_in_per_second).toBe(0);
    expect(report.groups[0]!.consumed_per_second).toBe(0);
  });

  test("lag is high watermark minus committed offset, summed over the group", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [110, 60], [100, 60]), topics: ["in"], timestamps: new Map() });
    const group = report.groups[0]!;
    expect(group.partitions.map((p) => [p.committed_offset, p.high_watermark, p.lag])).toEqual([
      [100, 110, 10],
      [60, 60, 0],
    ]);
    expect(group.lag).toBe(10);
  });

  test("a partition the group never committed counts everything still in it as lag", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [110], [null]), topics: ["in"], timestamps: new Map() });
    expect(report.groups[0]!.partitions[0]).toMatchObject({ committed_offset: null, lag: 100 });
  });

  test("lag in seconds is the age of the record at the committed offset; the group's worst is the maximum", () => {
    const now = 1_700_000_000_000;
    const timestamps = new Map([
      ["in/0", now - 42_500],
      ["in/1", now - 3_000],
    ]);
    const report = buildReport({ previous: undefined, current: sample(now, [110, 60], [100, 50]), topics: ["in"], timestamps });
    expect(report.groups[0]!.partitions.map((p) => p.lag_seconds)).toEqual([42.5, 3]);
    expect(report.groups[0]!.lag_seconds_max).toBe(42.5);
  });

  test("lag in seconds is 0 without lag, unknown (null) when the record could not be read, never negative", () => {
    const now = 1_700_000_000_000;
    const report = buildReport({
      previous: undefined,
      current: sample(now, [110, 60, 70], [110, 50, 60]),
      topics: ["in"],
      timestamps: new Map([["in/2", now + 5_000]]), // a producer whose clock runs ahead
    });
    expect(report.groups[0]!.partitions.map((p) => p.lag_seconds)).toEqual([0, null, 0]);
    expect(report.groups[0]!.lag_seconds_max).toBe(0);
  });

  test("consumption rate and catch-up time come from two samples of the committed offsets", () => {
    const report = buildReport({
      previous: sample(0, [1010, 1010], [10, 10]),
      current: sample(2_000, [1010, 1010], [210, 110]),
      topics: ["in"],
      timestamps: new Map(),
    });
    const group = report.groups[0]!;
    expect(group.consumed_per_second).toBe(150);
    expect(group.lag).toBe(1700);
    expect(group.catch_up_seconds).toBeCloseTo(1700 / 150, 1);
    expect(group.lag_growing).toBe(false);
  });

  test("lag that rises between the samples is flagged as growing; catch-up is unknown when nothing is consumed", () => {
    const report = buildReport({ previous: sample(0, [100], [50]), current: sample(1_000, [300], [50]), topics: ["in"], timestamps: new Map() });
    expect(report.groups[0]!.lag_growing).toBe(true);
    expect(report.groups[0]!.catch_up_seconds).toBeNull();
  });

  test("a group without lag needs no catch-up", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [100], [100]), topics: ["in"], timestamps: new Map() });
    expect(report.groups[0]!.catch_up_seconds).toBe(0);
    expect(report.groups[0]!.lag_seconds_max).toBe(0);
  });

  test("each partition names the member it is assigned to, and assigned partitions without commits are included", () => {
    const members = [{ memberId: "m-1", clientId: "kstream", host: "/127.0.0.1", assignment: { in: [1, 0] } }];
    const current = { ...sample(0, [110, 60], []), groups: [{ groupId: "g", state: "Stable", protocolType: "consumer", members, committed: [] }] };
    const report = buildReport({ previous: undefined, current, topics: ["in"], timestamps: new Map() });
    expect(report.groups[0]!.partitions.map((p) => [p.partition, p.member_id, p.lag])).toEqual([
      [0, "m-1", 100],
      [1, "m-1", 50],
    ]);
    expect(report.groups[0]!.members[0]!.assignments).toEqual([{ topic: "in", partitions: [0, 1] }]);
  });

  test("a partition with fewer in-sync replicas than replicas is under-replicated", () => {
    const current: Sample = {
      ...sample(0, [], []),
      topics: [{ name: "rf3", partitions: [partition(0, 0, 5, { replicas: [1, 2, 3], isr: [1, 3] }), partition(1, 0, 5, { replicas: [1, 2, 3], isr: [1, 2, 3] })] }],
    };
    const topic = buildReport({ previous: undefined, current, topics: ["rf3"], timestamps: new Map() }).topics[0]!;
    expect(topic.partitions.map((p) => p.under_replicated)).toEqual([true, false]);
    expect(topic.under_replicated_partitions).toBe(1);
  });

  test("only the selected topics are reported, though the sample holds the group's topics too", () => {
    const report = buildReport({ previous: undefined, current: sample(0, [110], [100]), topics: [], timestamps: new Map() });
    expect(report.topics).toEqual([]);
    expect(report.groups[0]!.lag).toBe(10);
  });

  test("the oldest unconsumed record is at the committed offset, or at the low watermark when retention removed it", () => {
    const current = sample(0, [110, 60, 60], [100, 5, null]);
    expect(oldestUnconsumed(current.groups[0]!, current)).toEqual([
      { topic: "in", partition: 0, offset: 100 },
      { topic: "in", partition: 1, offset: 10 },
      { topic: "in", partition: 2, offset: 10 },
    ]);
    expect(groupPositions(current.groups[0]!, current).map((p) => p.lag)).toEqual([10, 50, 50]);
  });
});
