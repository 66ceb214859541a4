/**
 * The fault suite (issue 7): each scenario injects one fault into a real run of the compiled
 * binary against real brokers (its own ports, started by scripts/faults.sh through kafka.sh), then
 * checks the outcome independently of kstream: kcat reads the topics (staging and dead letters
 * read_committed), DuckDB reads the Parquet files, and every input offset must be in exactly one
 * row or dead letter, every row in exactly one staging message, every record of the input file on
 * the input topic exactly once; `kstream recon` must agree. One line per scenario:
 *   scenario | records | lost | duplicated | verdict
 *
 *   bun scripts/faults/run.ts [--records 200000] [--only 1,2,...] [--port 19500] [--cluster-port 19600]
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    only: { type: "string" },
    port: { type: "string", default: "19500" },
    "cluster-port": { type: "string", default: "19600" },
  },
});

const ROOT = resolve(import.meta.dir, "../..");
const KSTREAM = join(ROOT, "dist", "kstream");
const RECORDS = Number(flags.records);
const PORT = Number(flags.port);
const CLUSTER_PORT = Number(flags["cluster-port"]);
const SINGLE = [`127.0.0.1:${PORT}`];
const CLUSTER = [0, 10, 20].map((offset) => `127.0.0.1:${CLUSTER_PORT + offset}`);
const work = mkdtempSync(join(tmpdir(), "kstream-faults-"));

// ---------- processes ----------

interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

async function run(command: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<Result> {
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr, seconds: (performance.now() - started) / 1000 };
}

const kafkaSh = (port: number, ...args: string[]) => run(["bash", join(ROOT, "scripts/kafka.sh"), ...args], { env: { KAFKA_PORT: String(port) } });

async function mustKafka(port: number, ...args: string[]): Promise<void> {
  const result = await kafkaSh(port, ...args);
  if (result.exitCode !== 0) throw new Error(`KAFKA_PORT=${port} kafka.sh ${args.join(" ")} failed:\n${result.stderr}`);
}

// ---------- a scenario's workspace ----------

interface Workspace {
  dir: string;
  config: string;
  brokers: string[];
  topics: { input: string; staging: string; dead_letter: string };
  parquetDir: string;
  ledger: string;
  kstream(args: string[], options?: { timeoutMs?: number }): Promise<Result>;
  spawn(args: string[]): ReturnType<typeof Bun.spawn>;
}

let counter = 0;
function workspace(label: string, brokers: string[], extra: { replication?: number; retryLimit?: string; parquetDir?: string; ledgerDir?: string } = {}): Workspace {
  const dir = join(work, `${label}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  const suffix = `${label}_${process.pid}_${counter}`;
  const topics = { input: `f_in_${suffix}`, staging: `f_stage_${suffix}`, dead_letter: `f_dlq_${suffix}` };
  const parquetDir = extra.parquetDir ?? join(dir, "parquet");
  const ledger = join(extra.ledgerDir ?? dir, "ledger.db");
  const config = join(dir, "kstream.toml");
  writeFileSync(
    config,
    `[kafka]
brokers = ${JSON.stringify(brokers)}
retry_limit = "${extra.retryLimit ?? "90s"}"
[topics]
input = "${topics.input}"
staging = "${topics.staging}"
dead_letter = "${topics.dead_letter}"
partitions = 3
replication_factor = ${extra.replication ?? 1}
[clean]
group_id = "f_group_${suffix}"
parquet_dir = "${parquetDir}"
file_max_age = "2s"
session_timeout = "6s"
[ledger]
path = "${ledger}"
`,
  );
  return {
    dir,
    config,
    brokers,
    topics,
    parquetDir,
    ledger,
    kstream: (args, options = {}) => run([KSTREAM, ...args, "--config", config], { cwd: dir, timeoutMs: options.timeoutMs }),
    spawn: (args) => Bun.spawn([KSTREAM, ...args, "--config", config], { cwd: dir, stdout: "pipe", stderr: "pipe" }),
  };
}

async function generate(records: number): Promise<string> {
  const file = join(work, `input-${records}.ndjson`);
  if (!existsSync(file)) {
    const result = await run(["node_modules/.bin/bun", "scripts/gen-sample.ts", "--records", String(records), "--out", file]);
    if (result.exitCode !== 0) throw new Error(`gen-sample failed: ${result.stderr}`);
  }
  return file;
}

/** Waits for a spawned kstream and returns its result. */
async function finish(child: ReturnType<typeof Bun.spawn>, timeoutMs = 300_000): Promise<Result> {
  const started = performance.now();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout as ReadableStream).text(),
    new Response(child.stderr as ReadableStream).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr, seconds: (performance.now() - started) / 1000 };
}

const sleep = (ms: number) => Bun.sleep(ms);
const randomBetween = (min: number, max: number) => min + Math.random() * (max - min);

// ---------- independent checks ----------

interface KcatMessage {
  partition: number;
  offset: number;
  payload: string | null;
  headers: string[] | null;
}

async function kcat(brokers: string[], topic: string, committedOnly: boolean): Promise<KcatMessage[]> {
  const args = ["kcat", "-b", brokers.join(","), "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q"];
  if (committedOnly) args.push("-X", "isolation.level=read_committed");
  const result = await run(args, { timeoutMs: 120_000 });
  if (result.exitCode !== 0) throw new Error(`kcat ${topic}: ${result.stderr}`);
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as KcatMessage);
}

function header(message: KcatMessage, name: string): string | undefined {
  const headers = message.headers ?? [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

async function parquetLineage(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT source_partition, source_offset FROM read_parquet('${dir.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = false)`,
    );
    return reader.getRows().map(([partition, offset]) => `${partition}:${offset}`);
  } catch (error) {
    if (String(error).includes("No files found")) return [];
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

interface Verdict {
  records: number;
  lost: number;
  duplicated: number;
  problems: string[];
}

const countOf = (keys: string[]) => {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
};

/** Every line of the input file on the input topic exactly once. */
async function checkProduced(ws: Workspace, inputFile: string, problems: string[]): Promise<{ records: number; lost: number; duplicated: number }> {
  // produce publishes each NDJSON line's text as it is (already compact here); the generator
  // repeats a few records on purpose, so both sides are compared as multisets.
  const expectedLines = readFileSync(inputFile, "utf8").split("\n").filter(Boolean);
  const expected = countOf(expectedLines);
  const onTopic = countOf((await kcat(ws.brokers, ws.topics.input, false)).map((m) => m.payload ?? ""));
  let lost = 0;
  let duplicated = 0;
  for (const [line, wanted] of expected) {
    const seen = onTopic.get(line) ?? 0;
    lost += Math.max(0, wanted - seen);
    duplicated += Math.max(0, seen - wanted);
  }
  for (const [payload, seen] of onTopic) if (!expected.has(payload)) duplicated += seen;
  if (lost) problems.push(`${lost} input records not on the topic`);
  if (duplicated) problems.push(`${duplicated} input records on the topic more than once`);
  return { records: expectedLines.length, lost, duplicated };
}

/** Every input offset in exactly one Parquet row or dead letter; every row in exactly one staging message; recon agrees. */
async function checkCleaned(ws: Workspace, problems: string[]): Promise<{ records: number; lost: number; duplicated: number }> {
  const [input, staging, deadLetters, rows] = await Promise.all([
    kcat(ws.brokers, ws.topics.input, false),
    kcat(ws.brokers, ws.topics.staging, true),
    kcat(ws.brokers, ws.topics.dead_letter, true),
    parquetLineage(ws.parquetDir),
  ]);
  const lineage = (m: KcatMessage) => `${header(m, "kstream-source-partition")}:${header(m, "kstream-source-offset")}`;
  const rowCounts = countOf(rows);
  const deadCounts = countOf(deadLetters.map(lineage));
  const stagingCounts = countOf(staging.map(lineage));
  let lost = 0;
  const extra = { rows: 0, deadLetters: 0, staging: 0 };
  const examples: string[] = [];
  for (const message of input) {
    const key = `${message.partition}:${message.offset}`;
    const rowsHere = rowCounts.get(key) ?? 0;
    const deadHere = deadCounts.get(key) ?? 0;
    const staged = stagingCounts.get(key) ?? 0;
    if (rowsHere + deadHere === 0 || (rowsHere > 0 && staged === 0)) lost++;
    extra.rows += Math.max(0, rowsHere - 1) + (rowsHere > 0 && deadHere > 0 ? 1 : 0);
    extra.deadLetters += Math.max(0, deadHere - 1);
    extra.staging += Math.max(0, staged - 1);
    if ((rowsHere + deadHere > 1 || staged > 1) && examples.length < 3) examples.push(`${key} (rows ${rowsHere}, dead letters ${deadHere}, staging ${staged})`);
  }
  const duplicated = extra.rows + extra.deadLetters + extra.staging;
  if (lost) problems.push(`${lost} offsets without their row, dead letter or staging message`);
  if (duplicated) problems.push(`duplicated: ${extra.rows} Parquet rows, ${extra.deadLetters} dead letters, ${extra.staging} staging messages; e.g. ${examples.join(", ")}`);
  const recon = await ws.kstream(["recon", "--all", "--json"]);
  if (recon.exitCode !== 0) problems.push(`recon exit ${recon.exitCode}: ${recon.stderr.trim().split("\n").pop()}`);
  return { records: input.length, lost, duplicated };
}

async function checkAll(ws: Workspace, inputFile: string): Promise<Verdict> {
  const problems: string[] = [];
  const produced = await checkProduced(ws, inputFile, problems);
  const cleaned = await checkCleaned(ws, problems);
  return { records: produced.records, lost: produced.lost + cleaned.lost, duplicated: produced.duplicated + cleaned.duplicated, problems };
}

function expectExit(result: Result, code: number, what: string, problems: string[]): void {
  if (result.exitCode !== code) problems.push(`${what} exited ${result.exitCode}, expected ${code}: ${lastLine(result.stderr)}`);
}
const lastLine = (text: string) => text.trim().split("\n").filter(Boolean).pop() ?? "";

async function produceAll(ws: Workspace, inputFile: string, problems: string[]): Promise<void> {
  expectExit(await ws.kstream(["produce", inputFile, "--quiet"]), 0, "produce", problems);
}

async function cleanToEnd(ws: Workspace, problems: string[]): Promise<void> {
  expectExit(await ws.kstream(["stream-clean", "--until-caught-up", "--quiet"], { timeoutMs: 600_000 }), 0, "final stream-clean", problems);
}

// ---------- scenarios ----------

type Scenario = () => Promise<Verdict>;

const scenarios: Record<string, [string, Scenario]> = {
  1: [
    "kill -9 stream-clean 10 times",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("kill9", SINGLE);
      const problems: string[] = [];
      await produceAll(ws, input, problems);
      for (let kill = 0; kill < 10; kill++) {
        const child = ws.spawn(["stream-clean", "--quiet"]);
        await sleep(randomBetween(1500, 4500));
        child.kill("SIGKILL");
        await child.exited;
      }
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  "2a": [
    "broker down 20 s during produce",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("down-produce", SINGLE);
      const problems: string[] = [];
      const producer = ws.spawn(["produce", input, "--rate", String(Math.ceil(RECORDS / 12))]);
      await sleep(3000);
      await mustKafka(PORT, "down");
      await sleep(20_000);
      await mustKafka(PORT, "up");
      const produced = await finish(producer);
      expectExit(produced, 0, "produce", problems);
      if (!/unreachable for \d+ s/.test(produced.stderr)) problems.push("produce said nothing while the broker was down");
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  "2b": [
    "broker down 20 s during stream-clean",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("down-clean", SINGLE);
      const problems: string[] = [];
      await produceAll(ws, input, problems);
      const cleaner = ws.spawn(["stream-clean", "--until-caught-up"]);
      await sleep(3000);
      await mustKafka(PORT, "down");
      await sleep(20_000);
      await mustKafka(PORT, "up");
      expectExit(await finish(cleaner, 600_000), 0, "stream-clean through the outage", problems);
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  "2c": [
    "broker down longer than retry_limit",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("down-long", SINGLE, { retryLimit: "10s" });
      const problems: string[] = [];
      const producer = ws.spawn(["produce", input, "--rate", String(Math.ceil(RECORDS / 12))]);
      await sleep(3000);
      await mustKafka(PORT, "down");
      const produced = await finish(producer, 120_000);
      await mustKafka(PORT, "up");
      expectExit(produced, 1, "produce with the broker gone", problems);
      if (produced.seconds > 60) problems.push(`produce took ${produced.seconds.toFixed(0)} s to give up`);
      if (!/kstream produce: /.test(produced.stderr)) problems.push("no one-line error from produce");
      // The ledger says how far it got: exactly what the topic holds of this run.
      const recon = await ws.kstream(["recon", "--json"]);
      const report = JSON.parse(recon.stdout || "{}") as { published?: number; ledger_sent?: number; not_in_topic?: number };
      const onTopic = (await kcat(ws.brokers, ws.topics.input, false)).length;
      if (report.ledger_sent !== onTopic) problems.push(`ledger counts ${report.ledger_sent} sent, the topic holds ${onTopic}`);
      const lost = Math.max(0, onTopic - (report.ledger_sent ?? 0));
      return { records: onTopic, lost, duplicated: 0, problems };
    },
  ],
  3: [
    "3-broker cluster, leader killed mid-produce and mid-clean",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("cluster", CLUSTER, { replication: 3 });
      const problems: string[] = [];
      const producer = ws.spawn(["produce", input, "--rate", String(Math.ceil(RECORDS / 10))]);
      await sleep(3000);
      const first = await leaderOf(ws.topics.input);
      await mustKafka(CLUSTER_PORT, "stop-node", String(first), "--kill");
      expectExit(await finish(producer), 0, "produce through the leader's death", problems);
      await mustKafka(CLUSTER_PORT, "start-node", String(first));
      const cleaner = ws.spawn(["stream-clean", "--until-caught-up"]);
      await sleep(4000);
      const second = await leaderOf(ws.topics.input);
      await mustKafka(CLUSTER_PORT, "stop-node", String(second), "--kill");
      expectExit(await finish(cleaner, 600_000), 0, "stream-clean through the leader's death", problems);
      await mustKafka(CLUSTER_PORT, "start-node", String(second));
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  4: [
    "rebalance: a second stream-clean joins, then leaves",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("rebalance", SINGLE);
      const problems: string[] = [];
      await produceAll(ws, input, problems);
      const a = ws.spawn(["stream-clean"]);
      await sleep(3000);
      const b = ws.spawn(["stream-clean"]);
      await sleep(5000);
      b.kill("SIGTERM");
      expectExit(await finish(b, 60_000), 0, "the second stream-clean, leaving", problems);
      await sleep(3000);
      a.kill("SIGTERM");
      expectExit(await finish(a, 60_000), 0, "the first stream-clean", problems);
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  5: [
    "Parquet filesystem full, then space freed",
    async () => {
      const input = await generate(RECORDS);
      const mount = join(work, "small-fs");
      mkdirSync(mount, { recursive: true });
      const mounted = await run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
      if (mounted.exitCode !== 0) return { records: 0, lost: 0, duplicated: 0, problems: [`cannot mount a small tmpfs here: ${lastLine(mounted.stderr)}`] };
      try {
        const ws = workspace("disk-full", SINGLE, { parquetDir: join(mount, "parquet") });
        const problems: string[] = [];
        await produceAll(ws, input, problems);
        const full = await ws.kstream(["stream-clean", "--until-caught-up"], { timeoutMs: 300_000 });
        expectExit(full, 1, "stream-clean on a full disk", problems);
        if (!/ENOSPC|no space/i.test(full.stderr)) problems.push(`no clear disk-full error: ${lastLine(full.stderr)}`);
        await run(["mount", "-o", "remount,size=512m", mount]);
        await cleanToEnd(ws, problems);
        return merge(await checkAll(ws, input), problems);
      } finally {
        await run(["umount", mount]);
      }
    },
  ],
  6: [
    "SIGTERM during a batch",
    async () => {
      const input = await generate(RECORDS);
      const ws = workspace("sigterm", SINGLE);
      const problems: string[] = [];
      await produceAll(ws, input, problems);
      const cleaner = ws.spawn(["stream-clean"]);
      await sleep(4000);
      const signalled = performance.now();
      cleaner.kill("SIGTERM");
      const stopped = await finish(cleaner, 60_000);
      expectExit(stopped, 0, "stream-clean after SIGTERM", problems);
      const seconds = (performance.now() - signalled) / 1000;
      if (seconds > 30) problems.push(`took ${seconds.toFixed(0)} s to stop`);
      await cleanToEnd(ws, problems);
      return merge(await checkAll(ws, input), problems);
    },
  ],
  7: [
    "ledger locked, then unwritable",
    async () => {
      const input = await generate(Math.min(RECORDS, 20_000));
      const problems: string[] = [];
      // Locked: another process holds an exclusive transaction on the ledger for 30 s.
      const ws = workspace("ledger-locked", SINGLE);
      const prepare = await ws.kstream(["produce", "-", "--quiet"]);
      expectExit(prepare, 0, "produce of nothing (creates the ledger and topics)", problems);
      const holder = Bun.spawn(
        ["node_modules/.bin/bun", "-e", `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(ws.ledger)}); db.exec("BEGIN EXCLUSIVE"); console.log("locked"); setTimeout(() => db.exec("ROLLBACK"), 30000);`],
        { cwd: ROOT, stdout: "pipe", stderr: "inherit" },
      );
      await new Response(holder.stdout).body!.getReader().read(); // "locked"
      const locked = await ws.kstream(["produce", input], { timeoutMs: 120_000 });
      holder.kill();
      await holder.exited;
      expectExit(locked, 1, "produce with the ledger locked", problems);
      if (!/ledger .*(locked|busy)/i.test(locked.stderr)) problems.push(`no clear ledger error: ${lastLine(locked.stderr)}`);
      const published = (await kcat(ws.brokers, ws.topics.input, false)).length;
      const counted = new Database(ws.ledger, { readonly: true }).query("SELECT COALESCE(SUM(sent), 0) AS n FROM runs").get() as { n: number };
      if (published !== counted.n) problems.push(`locked: ${published} records on the topic, ${counted.n} in the ledger`);

      // Unwritable: the ledger's folder is a read-only filesystem.
      const readOnly = join(work, "ro-fs");
      mkdirSync(readOnly, { recursive: true });
      const mounted = await run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly]);
      let uncounted = Math.abs(published - counted.n);
      if (mounted.exitCode !== 0) problems.push(`cannot mount a read-only tmpfs: ${lastLine(mounted.stderr)}`);
      else {
        try {
          const ro = workspace("ledger-ro", SINGLE, { ledgerDir: readOnly });
          const result = await ro.kstream(["produce", input], { timeoutMs: 120_000 });
          expectExit(result, 1, "produce with an unwritable ledger", problems);
          if (!/ledger/i.test(lastLine(result.stderr))) problems.push(`no clear ledger error: ${lastLine(result.stderr)}`);
          const topics = await run(["kcat", "-b", SINGLE.join(","), "-L", "-t", ro.topics.input, "-J"]);
          const onTopic = topics.stdout.includes(`"partitions":[{`) ? (await kcat(ro.brokers, ro.topics.input, false)).length : 0;
          if (onTopic > 0) problems.push(`unwritable: ${onTopic} records published with no ledger to count them`);
          uncounted += onTopic;
        } finally {
          await run(["umount", readOnly]);
        }
      }
      return { records: input === "" ? 0 : readFileSync(input, "utf8").split("\n").filter(Boolean).length, lost: uncounted, duplicated: 0, problems };
    },
  ],
};

function merge(verdict: Verdict, problems: string[]): Verdict {
  return { ...verdict, problems: [...problems, ...verdict.problems] };
}

/** The node id leading partition 0 of a topic in the cluster (kcat's metadata). */
async function leaderOf(topic: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const metadata = await run(["kcat", "-b", CLUSTER.join(","), "-L", "-t", topic, "-J", "-m", "5"]);
    if (metadata.exitCode === 0) {
      const parsed = JSON.parse(metadata.stdout) as { topics: { topic: string; partitions?: { partition: number; leader: number }[] }[] };
      const leader = parsed.topics.find((t) => t.topic === topic)?.partitions?.find((p) => p.partition === 0)?.leader;
      if (leader !== undefined && leader > 0) return leader;
    }
    await sleep(100);
  }
  throw new Error(`no leader for ${topic}/0`);
}

// ---------- main ----------

const wanted = flags.only ? new Set(flags.only.split(",")) : undefined;
const lines: string[] = [];
let failures = 0;
console.log("scenario | records | lost | duplicated | verdict");
try {
  // Object.entries would put the numeric ids before "2a".."2c"; the scenarios run in issue order.
  const ids = Object.keys(scenarios).sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
  for (const id of ids) {
    const [name, scenario] = scenarios[id]!;
    if (wanted && !wanted.has(id) && !wanted.has(id.replace(/[a-z]$/, ""))) continue;
    const started = performance.now();
    let verdict: Verdict;
    try {
      verdict = await scenario();
    } catch (error) {
      verdict = { records: 0, lost: 0, duplicated: 0, problems: [`the scenario itself failed: ${(error as Error).message.split("\n").slice(0, 12).join("\n      ")}`] };
    }
    const pass = verdict.lost === 0 && verdict.duplicated === 0 && verdict.problems.length === 0;
    if (!pass) failures++;
    const line = `${id}. ${name} | ${verdict.records.toLocaleString("en-US")} | ${verdict.lost} | ${verdict.duplicated} | ${pass ? "PASS" : "FAIL"} (${((performance.now() - started) / 1000).toFixed(0)} s)`;
    lines.push(line);
    console.log(line);
    for (const problem of verdict.problems) console.log(`    ${problem}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`faults: ${lines.length - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
