import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunReport } from "../../src/recon/run.ts";
import { createWorkspace, parseJsonOutput, type Workspace } from "./harness.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

type Report = RunReport;

async function pipeline(label: string, records = 1200): Promise<Workspace> {
  const ws = createWorkspace(label);
  workspaces.push(ws);
  const lines = Array.from({ length: records }, (_, i) => JSON.stringify(i % 100 === 7 ? [i] : { id: i + 1, email: `u${i}@x.io`, country: "Peru" }));
  writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
  expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
  expect((await ws.run(["stream-clean", "--until-caught-up", "--file-max-rows", "300"])).exitCode).toBe(0);
  return ws;
}

function parquetFiles(ws: Workspace): string[] {
  const root = ws.path("out", "parquet");
  return readdirSync(root).flatMap((folder) => readdirSync(join(root, folder)).map((name) => join(root, folder, name)));
}

describe("recon", () => {
  test("a clean run is accounted for exactly once: exit 0", async () => {
    const ws = await pipeline("recon-ok");
    const result = await ws.run(["recon", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(parseJsonOutput<Report>(result)).toMatchObject({ verdict: "ok", published: 1200, landed: 1188, dead_lettered: 12, pending: 0, missing: 0, duplicated: 0 });
    expect(result.stderr).toContain("recon: OK");
  });

  test("a run not yet consumed: exit 1 with the right pending count", async () => {
    const ws = await pipeline("recon-behind", 600);
    writeFileSync(ws.path("more.ndjson"), Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: 10_000 + i })).join("\n"));
    expect((await ws.run(["produce", ws.path("more.ndjson"), "--name", "second"])).exitCode).toBe(0);
    const result = await ws.run(["recon", "--json"]);
    expect(result.exitCode).toBe(1);
    expect(parseJsonOutput<Report>(result)).toMatchObject({ verdict: "behind", published: 250, pending: 250, missing: 0, duplicated: 0 });
    // the first run is still fine, by producer name
    expect((await ws.run(["recon", "--producer", "producer"])).exitCode).toBe(0);
    // --all: the worst verdict decides the exit code
    const all = await ws.run(["recon", "--all", "--json"]);
    expect(all.exitCode).toBe(1);
    expect(parseJsonOutput<Report[]>(all).map((r) => r.verdict)).toEqual(["ok", "behind"]);
  });

  test("a deleted Parquet file: exit 3 listing missing offsets", async () => {
    const ws = await pipeline("recon-missing");
    const [victim] = parquetFiles(ws);
    unlinkSync(victim!);
    const result = await ws.run(["recon", "--json"]);
    expect(result.exitCode).toBe(3);
    const report = parseJsonOutput<Report>(result);
    expect(report.missing).toBeGreaterThan(0);
    const partition = victim!.split("+")[1];
    expect(report.first_missing[0]).toStartWith(`${partition}:`);
    expect(result.stderr).toContain("first missing");
  });

  test("a Parquet file duplicated under another name: exit 3 listing duplicates", async () => {
    const ws = await pipeline("recon-dup");
    const [original] = parquetFiles(ws);
    copyFileSync(original!, original!.replace(/\+(\d{20})\.parquet$/, (_m, last: string) => `+${(BigInt(last) + 1n).toString().padStart(20, "0")}.parquet`));
    const result = await ws.run(["recon", "--json"]);
    expect(result.exitCode).toBe(3);
    const report = parseJsonOutput<Report>(result);
    expect(report.duplicated).toBeGreaterThan(0);
    expect(report.first_duplicated.length).toBeGreaterThan(0);
  });

  test("an empty ledger is a usage error: exit 2", async () => {
    const ws = createWorkspace("recon-empty");
    workspaces.push(ws);
    const result = await ws.run(["recon"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("no producer run");
  });
});

interface TopicJson {
  topic: string;
  group: string;
  partitions: { partition: number; start: number; committed: number; end: number }[];
  offsets: number;
  landed: number;
  dead_lettered: number;
  not_data: number;
  control_markers: number;
  aborted: number;
  pending: number;
  missing: number;
  duplicated: number;
  first_missing: string[];
  first_duplicated: string[];
  parquet_files_read: number;
  verdict: string;
  seconds: number;
}

describe("recon --topic", () => {
  test("a plain topic consumed to its end: exit 0, every offset a row or a dead letter, and the --json shape is pinned", async () => {
    const ws = await pipeline("recon-topic-ok");
    const result = await ws.run(["recon", "--topic", "--json"]);
    expect(result.exitCode).toBe(0);
    const report = parseJsonOutput<TopicJson>(result);
    expect(Object.keys(report).sort()).toEqual(
      ["aborted", "control_markers", "dead_lettered", "duplicated", "first_duplicated", "first_missing", "group", "landed", "missing", "not_data", "offsets", "parquet_files_read", "partitions", "pending", "seconds", "topic", "verdict"],
    );
    expect(report).toMatchObject({ topic: ws.topics.input, verdict: "ok", offsets: 1200, landed: 1188, dead_lettered: 12, not_data: 0, pending: 0, missing: 0, duplicated: 0 });
    expect(report.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(report.partitions.reduce((sum, p) => sum + p.committed - p.start, 0)).toBe(1200);
    expect(result.stderr).toContain("recon: OK");
  });

  test("a deleted Parquet file: exit 3 and the first missing offsets as partition:offset", async () => {
    const ws = await pipeline("recon-topic-missing");
    const [victim] = parquetFiles(ws);
    unlinkSync(victim!);
    const result = await ws.run(["recon", "--topic", "--json"]);
    expect(result.exitCode).toBe(3);
    const report = parseJsonOutput<TopicJson>(result);
    expect(report.missing).toBeGreaterThan(0);
    expect(report.not_data).toBe(0);
    expect(report.first_missing[0]).toMatch(new RegExp(`^${victim!.split("+")[1]}:\\d+$`));
    expect(result.stderr).toContain("first missing (partition:offset)");
  });

  test("records not consumed yet: exit 1 with the offsets past the committed offset pending", async () => {
    const ws = await pipeline("recon-topic-behind", 600);
    writeFileSync(ws.path("more.ndjson"), Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: 10_000 + i })).join("\n"));
    expect((await ws.run(["produce", ws.path("more.ndjson"), "--name", "second"])).exitCode).toBe(0);
    const result = await ws.run(["recon", "--topic", "--json"]);
    expect(result.exitCode).toBe(1);
    expect(parseJsonOutput<TopicJson>(result)).toMatchObject({ verdict: "behind", offsets: 600, pending: 250, missing: 0 });
  });

  test("--from-offset and --since choose where the check starts", async () => {
    const ws = await pipeline("recon-topic-from", 600);
    const from = parseJsonOutput<TopicJson>(await ws.run(["recon", "--topic", "--from-offset", "50", "--json"]));
    expect(from.partitions.map((p) => p.start)).toEqual([50, 50, 50]);
    expect(from.offsets).toBe(from.partitions.reduce((sum, p) => sum + Math.max(0, p.committed - p.start), 0));
    expect(from.offsets).toBeLessThan(600);
    const future = await ws.run(["recon", "--topic", "--since", new Date(Date.now() + 3_600_000).toISOString(), "--json"]);
    expect(future.exitCode).toBe(0);
    expect(parseJsonOutput<TopicJson>(future).offsets).toBe(0);
    const past = parseJsonOutput<TopicJson>(await ws.run(["recon", "--topic", "--since", "2000-01-01T00:00:00Z", "--json"]));
    expect(past.offsets).toBe(600);
  });

  test("usage errors exit 2: --topic with --run, --since not a time, --from-offset without --topic", async () => {
    const ws = createWorkspace("recon-topic-usage");
    workspaces.push(ws);
    expect((await ws.run(["recon", "--topic", "--run", "x"])).exitCode).toBe(2);
    expect((await ws.run(["recon", "--topic", "--since", "yesterday"])).exitCode).toBe(2);
    expect((await ws.run(["recon", "--topic", "--from-offset", "1e3"])).exitCode).toBe(2);
    expect((await ws.run(["recon", "--from-offset", "3"])).exitCode).toBe(2);
  });
});
