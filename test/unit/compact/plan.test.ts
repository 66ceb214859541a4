import { describe, expect, test } from "bun:test";
import { isClosedFolder, planCompaction, type PlanInput } from "../../../src/compact/plan.ts";
import type { CandidateFile } from "../../../src/compact/types.ts";
import { fileNameFor } from "../../../src/storage/names.ts";

const NOW = Date.parse("2026-03-10T05:00:00Z");
const DAY = 86_400_000;

function file(folder: string, partition: number, first: number, last: number, size = 1000): CandidateFile {
  return { folder, name: fileNameFor("t", partition, BigInt(first), BigInt(last)), partition, firstOffset: BigInt(first), lastOffset: BigInt(last), size };
}

const base = (files: CandidateFile[], overrides: Partial<PlanInput> = {}): PlanInput => ({
  topic: "t",
  folders: [...new Set(files.map((f) => f.folder))],
  files,
  committed: new Map([[0, 1_000_000n], [1, 1_000_000n]]),
  nowMs: NOW,
  minAgeMs: 2 * DAY,
  targetBytes: 10_000,
  ...overrides,
});

describe("closed folders", () => {
  test("a folder is closed once its UTC day ended min_age ago: never today's or yesterday's with 2 days", () => {
    expect(isClosedFolder("ingest_date=2026-03-10", NOW, 2 * DAY)).toBe(false);
    expect(isClosedFolder("ingest_date=2026-03-09", NOW, 2 * DAY)).toBe(false);
    expect(isClosedFolder("ingest_date=2026-03-08", NOW, 2 * DAY)).toBe(false); // ended 1 day 5 hours ago
    expect(isClosedFolder("ingest_date=2026-03-07", NOW, 2 * DAY)).toBe(true);
    expect(isClosedFolder("ingest_date=2026-03-09", NOW, 3_600_000)).toBe(true);
    expect(isClosedFolder("ingest_date=garbage", NOW, 1)).toBe(false);
  });
});

describe("planning merges", () => {
  test("files of one folder and partition merge in offset order, named by the first and last offset", () => {
    const old = "ingest_date=2026-03-01";
    const plan = planCompaction(base([file(old, 0, 20, 29), file(old, 0, 0, 9), file(old, 0, 10, 19), file(old, 1, 0, 4), file(old, 1, 5, 9)]));
    expect(plan.groups.map((g) => [g.partition, g.merged, g.originals.map((o) => o.firstOffset)])).toEqual([
      [0, "t+0+00000000000000000000+00000000000000000029+compacted.parquet", [0n, 10n, 20n]],
      [1, "t+1+00000000000000000000+00000000000000000009+compacted.parquet", [0n, 5n]],
    ]);
  });

  test("groups stay within the target size; a lone file is not rewritten; big files are left alone", () => {
    const old = "ingest_date=2026-03-01";
    const files = [0, 1, 2, 3, 4].map((i) => file(old, 0, i * 10, i * 10 + 9, 4000));
    const plan = planCompaction(base([...files, file(old, 0, 50, 59, 6000), file(old, 0, 60, 69, 1000)]));
    expect(plan.groups.map((g) => g.originals.length)).toEqual([2, 2]);
    expect(plan.groups.every((g) => g.bytes <= 10_000)).toBe(true);
    expect(plan.skipped).toBe(3); // the fifth 4000-byte file (alone), the 6000-byte one, the last one (alone)
  });

  test("files at or past the committed offset, today's folder and other topics are never planned", () => {
    const old = "ingest_date=2026-03-01";
    const today = "ingest_date=2026-03-10";
    const plan = planCompaction(
      base([file(old, 0, 0, 9), file(old, 0, 10, 19), file(old, 0, 20, 29), file(today, 0, 30, 39), file(today, 0, 40, 49)], { committed: new Map([[0, 25n]]) }),
    );
    expect(plan.groups.map((g) => g.originals.map((o) => o.lastOffset))).toEqual([[9n, 19n]]);
    expect(plan.closedFolders).toEqual([old]);
    expect(planCompaction(base([file(old, 1, 0, 9), file(old, 1, 10, 19)], { committed: new Map([[0, 100n]]) })).groups).toEqual([]);
  });

  test("a file overlapping the one before it (a duplicate) starts a new group: overlapping ranges never merge", () => {
    const old = "ingest_date=2026-03-01";
    const plan = planCompaction(base([file(old, 0, 0, 9), file(old, 0, 5, 14), file(old, 0, 15, 19)]));
    expect(plan.groups.map((g) => g.originals.map((o) => o.firstOffset))).toEqual([[5n, 15n]]);
  });

  test("a merged file and newer small files of its folder merge again; the plan is the same for the same input", () => {
    const old = "ingest_date=2026-03-01";
    const merged = { ...file(old, 0, 0, 99, 2000), name: "t+0+00000000000000000000+00000000000000000099+compacted.parquet" };
    const input = base([merged, file(old, 0, 100, 109), file(old, 0, 110, 119)]);
    expect(planCompaction(input).groups[0]!.merged).toBe("t+0+00000000000000000000+00000000000000000119+compacted.parquet");
    expect(planCompaction(input)).toEqual(planCompaction(input));
  });
});
