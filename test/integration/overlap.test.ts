/**
 * Overlapping runs never corrupt state: every job that keeps state in the ledger gives the same
 * result whether two of its runs overlap (two processes of the compiled binary started together,
 * as cron and a second person do) or run one after the other. The results are compared as bytes
 * (the CSV) and as sqlite's own view of the ledger files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { createWorkspace, kcatConsume, KSTREAM_BIN, type RunResult, type Workspace } from "./harness.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

function workspace(label: string): Workspace {
  const ws = createWorkspace(label);
  workspaces.push(ws);
  return ws;
}

function writeRecords(path: string, count: number, seed: number): void {
  const random = createRandom(seed);
  writeFileSync(path, `${Array.from({ length: count }, (_, i) => JSON.stringify(makeRecord(i + 1, random))).join("\n")}\n`);
}

function rows(path: string, sql: string): Array<Record<string, unknown>> {
  const db = new Database(path, { readonly: true });
  try {
    return db.query(sql).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** A second ledger file with the same content, made by sqlite itself (the WAL folded in). */
function copyLedger(from: string, to: string): void {
  const db = new Database(from);
  try {
    db.run(`VACUUM INTO '${to}'`);
  } finally {
    db.close();
  }
}

/** Both commands started before either is awaited. */
function together(first: Promise<RunResult>, second: Promise<RunResult>): Promise<RunResult[]> {
  return Promise.all([first, second]);
}

describe("two batch-measure --since-last runs", () => {
  let ws: Workspace;
  let sequentialCsv: string;
  const measure = (name: string, env: Record<string, string> = {}) =>
    ws.run(["batch-measure", "--since-last", "--output", ws.path("out", `${name}.csv`)], {
      env: { KSTREAM_LEDGER_PATH: ws.path("out", `${name}.db`), ...env },
      timeoutMs: 150_000,
    });

  beforeAll(async () => {
    ws = workspace("overlap-measure");
    writeRecords(ws.path("in.ndjson"), 20_000, 16);
    expect((await ws.run(["produce", ws.path("in.ndjson")], { timeoutMs: 150_000 })).exitCode).toBe(0);
    const cleaned = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 170_000 });
    expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    const first = await measure("sequential");
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await measure("sequential");
    expect(second.exitCode, second.stderr).toBe(0);
    sequentialCsv = readFileSync(ws.path("out", "sequential.csv"), "utf8");
    // The sequential result is itself right: a full read of the topic gives the same bytes.
    const full = await ws.run(["batch-measure", "--output", ws.path("out", "full.csv")], { timeoutMs: 150_000 });
    expect(full.exitCode, full.stderr).toBe(0);
    expect(sequentialCsv).toBe(readFileSync(ws.path("out", "full.csv"), "utf8"));
  }, 175_000);

  test("started together on a fresh ledger write a CSV byte-identical to two runs one after the other", async () => {
    const results = await together(measure("together"), measure("together"));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(ws.path("out", "together.csv"), "utf8")).toBe(sequentialCsv);
    // The state counts each staging message once: as many countries counted as a sequential ledger holds.
    const sum = (name: string) => rows(ws.path("out", `${name}.db`), "SELECT SUM(count) AS n FROM measure_countries")[0]!.n;
    expect(sum("together")).toBe(sum("sequential"));
    // They did overlap: one of them waited for the other's lease, then found nothing new.
    expect(results.map((r) => r.stderr).join("\n")).toMatch(/is running in pid \d+ on .*: waiting for it/);
  }, 175_000);

  test("a run that finds the state held past ledger.job_wait refuses with one line, code KSTREAM_BUSY and exit 4, and changes nothing", async () => {
    // First a run to make the ledger; then a lease held by a live process (this test) with a fresh heartbeat.
    expect((await measure("busy")).exitCode).toBe(0);
    const before = readFileSync(ws.path("out", "busy.csv"), "utf8");
    const db = new Database(ws.path("out", "busy.db"));
    db.run("INSERT INTO job_leases (job, holder, host, pid, acquired_at, heartbeat_at) VALUES (?, 'someone', ?, ?, ?, ?)", [
      `batch-measure --since-last ${ws.topics.staging}`,
      hostname(),
      process.pid,
      Date.now(),
      Date.now(),
    ]);
    db.close();
    rmSync(ws.path("out", "busy.csv"));
    const refused = await ws.run(["batch-measure", "--since-last", "--json", "--output", ws.path("out", "busy.csv")], {
      env: { KSTREAM_LEDGER_PATH: ws.path("out", "busy.db"), KSTREAM_LEDGER_JOB_WAIT: "2s" },
    });
    expect(refused.exitCode, refused.stderr).toBe(4);
    const errors = refused.stderr.split("\n").filter((line) => line.includes("[error]"));
    expect(errors.length, refused.stderr).toBe(1);
    expect(errors[0]).toContain(`is already running (pid ${process.pid}`);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: "KSTREAM_BUSY", exit_code: 4 } });
    expect(existsSync(ws.path("out", "busy.csv"))).toBe(false);
    writeFileSync(ws.path("out", "busy.csv"), before);
  }, 120_000);

  test("a run killed with kill -9 while holding the lease blocks nobody: the next run takes over at once and writes the same CSV", async () => {
    const ledgerPath = ws.path("out", "killed.db");
    const child = Bun.spawn([KSTREAM_BIN, "batch-measure", "--since-last", "--config", ws.configPath, "--output", ws.path("out", "killed.csv")], {
      cwd: ws.dir,
      env: { ...process.env, KSTREAM_LEDGER_PATH: ledgerPath },
      stdout: "ignore",
      stderr: "ignore",
    });
    const held = () => {
      try {
        return existsSync(ledgerPath) && rows(ledgerPath, "SELECT COUNT(*) AS n FROM job_leases")[0]!.n === 1;
      } catch {
        return false; // not created or not migrated yet
      }
    };
    const deadline = Date.now() + 60_000;
    while (!held() && Date.now() < deadline) await Bun.sleep(20);
    expect(held()).toBe(true);
    child.kill("SIGKILL");
    await child.exited;
    expect(held()).toBe(true); // the lease is left behind
    const next = await ws.run(["batch-measure", "--since-last", "--output", ws.path("out", "killed.csv")], {
      env: { KSTREAM_LEDGER_PATH: ledgerPath },
      timeoutMs: 150_000,
    });
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/taking over the lease of a run that stopped without giving it up \(its process \d+ on .* is gone\)/);
    expect(readFileSync(ws.path("out", "killed.csv"), "utf8")).toBe(sequentialCsv);
  }, 175_000);
});

describe("two recon runs", () => {
  test("started together over runs with requests in doubt leave the ledger as two recon runs one after the other do", async () => {
    const ws = workspace("overlap-recon");
    writeFileSync(ws.path("in.ndjson"), Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: i + 1 })).join("\n"));
    // A run killed after its third request landed (its answer never recorded; it says running),
    // and a run that failed when the brokers "went away" mid-request: both leave 1,000 records in
    // doubt (requests of 1,000 messages; the default is larger).
    const thousand = { KSTREAM_PRODUCE_BATCH_SIZE: "1000" };
    const killed = await ws.run(["produce", ws.path("in.ndjson"), "--name", "killed"], { env: { ...thousand, KSTREAM_FAULT: "answer-lost:3" } });
    expect(killed.exitCode).not.toBe(0);
    const failed = await ws.run(["produce", ws.path("in.ndjson"), "--name", "failed"], { env: { ...thousand, KSTREAM_FAULT: "answer-lost:3:fail" } });
    expect(failed.exitCode).toBe(1);
    const ledger = ws.path("out", "ledger.db");
    expect(rows(ledger, "SELECT SUM(count) AS n FROM run_in_doubt")[0]!.n).toBe(2000);
    const copies = { together: ws.path("out", "together.db"), sequential: ws.path("out", "sequential.db") };
    copyLedger(ledger, copies.together);
    copyLedger(ledger, copies.sequential);
    await Bun.sleep(2500); // past the 2 s heartbeat timeout below: the killed run is taken for dead
    const recon = (path: string) =>
      ws.run(["recon", "--all", "--json"], { env: { KSTREAM_LEDGER_PATH: path, KSTREAM_LEDGER_HEARTBEAT_TIMEOUT: "2s" }, timeoutMs: 150_000 });

    const overlapping = await together(recon(copies.together), recon(copies.together));
    const sequential = [await recon(copies.sequential), await recon(copies.sequential)];
    for (const result of [...overlapping, ...sequential]) expect(result.exitCode, result.stderr).toBe(1); // behind: nothing was cleaned

    // Everything but the moment a dead run was marked failed, which differs between two ledgers.
    const state = (path: string) => ({
      runs: rows(path, "SELECT id, producer, status, sent, rejected, heartbeat_at, finished_at IS NULL AS open FROM runs ORDER BY id"),
      offsets: rows(path, "SELECT run_id, topic, partition, first_offset, last_offset, count FROM run_offsets ORDER BY run_id, partition, first_offset"),
      inDoubt: rows(path, "SELECT * FROM run_in_doubt ORDER BY run_id, partition"),
    });
    const after = state(copies.together);
    expect(after).toEqual(state(copies.sequential));
    expect(after.inDoubt).toEqual([]);
    expect(after.runs.map((run) => [run.producer, run.status, run.sent])).toEqual(
      expect.arrayContaining([["killed", "failed", 3000], ["failed", "failed", 3000]]),
    );
    // And the ledger counts exactly what is on the topic, each offset once.
    const onTopic = await kcatConsume(ws.topics.input);
    const counted = after.offsets.reduce((sum, range) => sum + Number(range.count), 0);
    expect(counted).toBe(onTopic.length);
    // The reports agree too: the last of the overlapping runs says what the last sequential run says.
    const published = (result: RunResult) => (JSON.parse(result.stdout) as Array<{ published: number; run: { id: string } }>).map((r) => [r.run.id, r.published]).sort();
    expect(published(overlapping[0]!)).toEqual(published(sequential[1]!));
    expect(published(overlapping[1]!)).toEqual(published(sequential[1]!));
  }, 175_000);
});

describe("two produce runs", () => {
  test("started together into one ledger give the same totals as one after the other", async () => {
    const overlapping = workspace("overlap-produce-together");
    const sequential = workspace("overlap-produce-sequential");
    for (const ws of [overlapping, sequential]) {
      writeRecords(ws.path("a.ndjson"), 6000, 1);
      writeRecords(ws.path("b.ndjson"), 4000, 2);
      writeFileSync(ws.path("b.ndjson"), `${readFileSync(ws.path("b.ndjson"), "utf8")}not json\n`);
    }
    const produce = (ws: Workspace, file: string, name: string) => ws.run(["produce", ws.path(file), "--name", name], { timeoutMs: 150_000 });
    // Topics first, so neither concurrent run races the other to create them.
    for (const ws of [overlapping, sequential]) expect((await ws.run(["produce", "-", "--name", "empty"], { stdin: "" })).exitCode).toBe(0);
    const results = await together(produce(overlapping, "a.ndjson", "a"), produce(overlapping, "b.ndjson", "b"));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    for (const [file, name] of [["a.ndjson", "a"], ["b.ndjson", "b"]] as const) expect((await produce(sequential, file, name)).exitCode).toBe(0);

    const totals = (ws: Workspace) => {
      const path = ws.path("out", "ledger.db");
      return {
        runs: rows(path, "SELECT producer, status, sent, rejected FROM runs ORDER BY producer"),
        ranges: rows(path, "SELECT r.producer, SUM(o.count) AS n FROM run_offsets o JOIN runs r ON r.id = o.run_id GROUP BY r.producer ORDER BY r.producer"),
        rejections: rows(path, "SELECT r.producer, j.line FROM run_rejections j JOIN runs r ON r.id = j.run_id ORDER BY r.producer, j.line"),
      };
    };
    expect(totals(overlapping)).toEqual(totals(sequential));
    expect(totals(overlapping).runs).toEqual([
      { producer: "a", status: "completed", sent: 6000, rejected: 0 },
      { producer: "b", status: "completed", sent: 4000, rejected: 1 },
      { producer: "empty", status: "completed", sent: 0, rejected: 0 },
    ]);
    // Each run's ranges are exactly its own messages on the topic (by the run header), none shared.
    const onTopic = await kcatConsume(overlapping.topics.input);
    expect(onTopic.length).toBe(10_000);
    const counted = rows(overlapping.path("out", "ledger.db"), "SELECT partition, first_offset, last_offset FROM run_offsets");
    const offsets = new Set<string>();
    for (const range of counted) for (let o = Number(range.first_offset); o <= Number(range.last_offset); o++) offsets.add(`${range.partition}:${o}`);
    expect(offsets).toEqual(new Set(onTopic.map((m) => `${m.partition}:${m.offset}`)));
  }, 175_000);
});
