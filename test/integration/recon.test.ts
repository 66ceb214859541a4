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
