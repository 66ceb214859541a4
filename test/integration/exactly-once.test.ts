import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { createWorkspace, KSTREAM_BIN, type Workspace } from "./harness.ts";
import { checkExactlyOnce } from "./pipeline.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

/** Small files and a short session timeout: many cycles to crash in, quick fail-over. */
const CRASHY = '[clean]\nfile_max_rows = 250\n';

async function prepared(label: string, records: number): Promise<Workspace> {
  const ws = createWorkspace(label, "");
  workspaces.push(ws);
  const toml = await Bun.file(ws.configPath).text();
  writeFileSync(ws.configPath, toml.replace("[clean]\n", `[clean]\nfile_max_rows = 250\nsession_timeout = "6s"\n`));
  const random = createRandom(records);
  const lines = Array.from({ length: records }, (_, i) => JSON.stringify(makeRecord(i + 1, random)));
  writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
  expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
  return ws;
}

function startClean(ws: Workspace, extraArgs: string[] = [], env: Record<string, string> = {}) {
  return Bun.spawn([KSTREAM_BIN, "stream-clean", "--config", ws.configPath, ...extraArgs], {
    cwd: ws.dir,
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
}

async function expectExactlyOnce(ws: Workspace, records: number) {
  const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
  expect({ lost: report.lost.slice(0, 5), dupParquet: report.duplicatedInParquet.slice(0, 5), dupStaging: report.duplicatedInStaging.slice(0, 5) }).toEqual({
    lost: [],
    dupParquet: [],
    dupStaging: [],
  });
  expect(report).toMatchObject({ duplicatedInDeadLetters: [], stagingWithoutRow: [], rowWithoutStaging: [] });
  expect(report.input).toBe(records);
  expect(report.parquetRows + report.deadLetters).toBe(records);
  expect(report.staging).toBe(report.parquetRows);
}

describe("exactly once across crashes", () => {
  test.each(["mid-batch", "before-rename", "after-rename", "in-transaction", "after-commit"])(
    "kill -9 at %s, then restart: every offset in exactly one row or dead letter, every row in one staging message",
    async (point) => {
      const records = 3000;
      const ws = await prepared(`crash-${point}`, records);
      const crashed = startClean(ws, ["--until-caught-up"], { KSTREAM_FAULT: `${point}:3` });
      await crashed.exited;
      expect(crashed.signalCode).toBe("SIGKILL");
      const restarted = await ws.run(["stream-clean", "--until-caught-up"]);
      expect(restarted.exitCode).toBe(0);
      await expectExactlyOnce(ws, records);
    },
  );

  test("kill -9 at random moments, restarting each time: nothing lost, nothing duplicated", async () => {
    const records = 20_000;
    const ws = await prepared("random-kills", records);
    const random = createRandom(2026);
    for (let kill = 0; kill < 5; kill++) {
      const child = startClean(ws, ["--until-caught-up"]);
      await Bun.sleep(700 + Math.floor(random() * 1500));
      child.kill("SIGKILL");
      await child.exited;
    }
    const last = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 120_000 });
    expect(last.exitCode).toBe(0);
    await expectExactlyOnce(ws, records);
  });

  test("two processes share the group; one is killed mid-run and the other takes over its partitions", async () => {
    const records = 20_000;
    const ws = await prepared("two-processes", records);
    const survivor = startClean(ws, ["--until-caught-up"]);
    const victim = startClean(ws, ["--until-caught-up"]);
    await Bun.sleep(2500);
    victim.kill("SIGKILL");
    const timer = setTimeout(() => survivor.kill("SIGKILL"), 120_000);
    const exitCode = await survivor.exited;
    clearTimeout(timer);
    expect({ exitCode, stderr: exitCode === 0 ? "" : await new Response(survivor.stderr).text() }).toEqual({ exitCode: 0, stderr: "" });
    await expectExactlyOnce(ws, records);
  });
});
