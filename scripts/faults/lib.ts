/**
 * What the fault scenarios share: child processes whose output can be waited on, the brokers
 * (through scripts/kafka.sh), a workspace per scenario (own topics, group, config, folders), and the
 * independent checks: kcat reads the topics (staging and dead letters read_committed), DuckDB the
 * Parquet files, bun:sqlite the ledger. None of them goes through kstream's code; `kstream recon`
 * is asked as well and must agree.
 *
 * A workspace on the hosts of scripts/hosts.sh names a host (`host: "c1"`): its kstream commands
 * and kcat then run inside that host's namespace (`ip netns exec kstream-c1 ...`), the only place
 * from which the brokers' addresses may be reached; `spawn(args, "c2")` runs one elsewhere.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const KSTREAM = join(ROOT, "dist", "kstream");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");
export const HOSTS_SH = join(ROOT, "scripts", "hosts.sh");

/** A host of scripts/hosts.sh ("c1", "b2") -> its network namespace. */
export const netnsOf = (host: string) => `kstream-${host}`;
/** `command` as run inside `host`'s namespace, or here when there is no host. */
export const inHost = (host: string | undefined, command: string[]) => (host ? ["ip", "netns", "exec", netnsOf(host), ...command] : command);

export const sleep = (ms: number) => Bun.sleep(ms);
export const randomBetween = (min: number, max: number) => min + Math.random() * (max - min);
export const lastLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .pop() ?? "";

/** Details for the person running the suite go to stderr, so that stdout stays the table. */
export const note = (text: string) => process.stderr.write(`      ${text}\n`);

// ---------- processes ----------

export interface Result {
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

const live = new Set<Proc>();

/** A child process whose stdout/stderr are collected as they arrive, so that a scenario can wait for a line. */
export class Proc {
  readonly child: ReturnType<typeof Bun.spawn>;
  readonly startedAt = performance.now();
  stdout = "";
  stderr = "";
  private readonly done: Promise<Result>;
  private waiters: Array<() => void> = [];
  private finished = false;
  private timedOut = false;

  constructor(
    readonly command: string[],
    options: { cwd?: string; env?: Record<string, string>; log?: string } = {},
  ) {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    delete env.KSTREAM_CONFIG;
    this.child = Bun.spawn(command, { cwd: options.cwd ?? ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    live.add(this);
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this[into] += decoder.decode(chunk, { stream: true });
        this.wake();
      }
      this[into] += decoder.decode();
    };
    this.done = Promise.all([
      pump(this.child.stdout as ReadableStream<Uint8Array>, "stdout"),
      pump(this.child.stderr as ReadableStream<Uint8Array>, "stderr"),
      this.child.exited,
    ]).then(([, , exitCode]) => {
      this.finished = true;
      live.delete(this);
      this.wake();
      const result = {
        exitCode,
        signal: this.child.signalCode === null ? null : String(this.child.signalCode),
        stdout: this.stdout,
        stderr: this.stderr,
        seconds: (performance.now() - this.startedAt) / 1000,
        timedOut: this.timedOut,
      };
      if (options.log) {
        const head = `$ ${command.join(" ")}\n# exit ${exitCode}${result.signal ? ` (${result.signal})` : ""} after ${result.seconds.toFixed(1)} s\n`;
        writeFileSync(options.log, `${head}${this.stderr}${this.stdout ? `\n--- stdout\n${this.stdout}` : ""}`);
      }
      return result;
    });
  }

  get running(): boolean {
    return !this.finished;
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves with the first match of `pattern` in stderr at or after `from`; rejects on exit or timeout. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<{ match: RegExpExecArray; end: number }> {
    const deadline = performance.now() + timeoutMs;
    const global = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`);
    for (;;) {
      global.lastIndex = from;
      const match = global.exec(this.stderr);
      if (match) return { match, end: match.index + match[0].length };
      if (this.finished) throw new Error(`${this.describe()} exited (${this.child.exitCode}) before printing ${pattern}: ${lastLine(this.stderr)}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.describe()} did not print ${pattern} within ${Math.round(timeoutMs / 1000)} s: ${lastLine(this.stderr)}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (!this.finished) this.child.kill(signal);
  }

  /** Waits for the exit; SIGKILL after `timeoutMs` (then `timedOut` is true). */
  async result(timeoutMs = 300_000): Promise<Result> {
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill("SIGKILL");
    }, timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  describe(): string {
    const at = this.command.indexOf(KSTREAM);
    if (at < 0) return this.command.join(" ");
    const where = at > 0 && this.command[0] === "ip" ? ` (in ${this.command[at - 1]})` : "";
    return `kstream ${this.command.slice(at + 1, this.command.indexOf("--config")).join(" ")}${where}`;
  }
}

/** Kills every child still running (the suite is ending or was interrupted). */
export function killAll(): void {
  for (const proc of live) proc.child.kill("SIGKILL");
}

export async function run(command: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  return new Proc(command, options).result(options.timeoutMs ?? 300_000);
}

// ---------- brokers ----------

export async function kafkaSh(port: number, ...args: string[]): Promise<void> {
  const result = await run(["bash", join(ROOT, "scripts/kafka.sh"), ...args], { env: { KAFKA_PORT: String(port) }, timeoutMs: 240_000 });
  if (result.exitCode !== 0) throw new Error(`KAFKA_PORT=${port} scripts/kafka.sh ${args.join(" ")} failed: ${result.stderr.trim()}`);
}

export interface PartitionInfo {
  partition: number;
  leader: number;
}

/** Partitions of a topic and their leaders, from kcat's metadata (none when the topic does not exist); kcat runs inside `host` when given. */
export async function partitionsOf(brokers: string[], topic: string, host?: string): Promise<PartitionInfo[]> {
  const metadata = await run(inHost(host, ["kcat", "-b", brokers.join(","), "-L", "-t", topic, "-J", "-m", "5"]), { timeoutMs: 20_000 });
  if (metadata.exitCode !== 0) return [];
  const parsed = JSON.parse(metadata.stdout) as { topics: { topic: string; partitions?: { partition: number; leader: number }[] }[] };
  return (parsed.topics.find((t) => t.topic === topic)?.partitions ?? []).map((p) => ({ partition: p.partition, leader: p.leader }));
}

// ---------- workspaces ----------

export interface Topics {
  input: string;
  staging: string;
  dead_letter: string;
}

export interface WorkspaceOptions {
  replication?: number;
  /** Partitions of each topic (default 3). */
  partitions?: number;
  /** The host of scripts/hosts.sh whose namespace runs this workspace's commands and kcat. */
  host?: string;
  retryLimit?: string;
  parquetDir?: string;
  ledgerDir?: string;
  fileMaxAge?: string;
  heartbeatTimeout?: string;
  /** Parquet to this S3 server instead of a folder: the workspace's files under s3://<bucket>/<label>_<suffix>. */
  s3?: S3Server;
}

/** An S3 server of scripts/s3.sh, as a workspace's config and the checks reach it. */
export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** s3.sh's run folder: access_key_id and secret_access_key (the secret never leaves its file but for the checker's environment). */
  readonly runDir: string;
}

/** One scenario's own topics, consumer group, Parquet folder, ledger and config file. */
export class Workspace {
  readonly dir: string;
  readonly config: string;
  readonly topics: Topics;
  readonly group: string;
  readonly parquetDir: string;
  readonly ledger: string;
  readonly host: string | undefined;
  readonly s3: S3Server | undefined;
  private runs = 0;

  constructor(
    work: string,
    label: string,
    readonly brokers: string[],
    options: WorkspaceOptions = {},
  ) {
    const suffix = `${label}_${Date.now().toString(36)}`;
    this.dir = join(work, label);
    mkdirSync(join(this.dir, "logs"), { recursive: true });
    this.topics = { input: `faults_in_${suffix}`, staging: `faults_stage_${suffix}`, dead_letter: `faults_dlq_${suffix}` };
    this.group = `faults_group_${suffix}`;
    this.s3 = options.s3;
    this.parquetDir = options.parquetDir ?? (options.s3 ? `s3://${options.s3.bucket}/${suffix}` : join(this.dir, "parquet"));
    this.ledger = join(options.ledgerDir ?? this.dir, "ledger.db");
    this.config = join(this.dir, "kstream.toml");
    this.host = options.host;
    writeFileSync(
      this.config,
      `# written by scripts/faults/lib.ts for one fault scenario
[kafka]
brokers = ${JSON.stringify(brokers)}
client_id = "kstream-faults"
retry_limit = "${options.retryLimit ?? "60s"}"

[topics]
input = "${this.topics.input}"
staging = "${this.topics.staging}"
dead_letter = "${this.topics.dead_letter}"
partitions = ${options.partitions ?? 3}
replication_factor = ${options.replication ?? 1}

[produce]
name = "faults"

[clean]
group_id = "${this.group}"
parquet_dir = "${this.parquetDir}"
file_max_age = "${options.fileMaxAge ?? "2s"}"
session_timeout = "6s"

[ledger]
path = "${this.ledger}"
heartbeat_timeout = "${options.heartbeatTimeout ?? "1m"}"
${options.s3 ? s3Table(options.s3) : ""}`,
    );
  }

  /** Starts the compiled kstream with this workspace's config (inside `host`'s namespace, if any); its output is kept in logs/. */
  spawn(args: string[], host = this.host): Proc {
    const log = join(this.dir, "logs", `${String(++this.runs).padStart(2, "0")}-${args[0]}${host ? `-${host}` : ""}.log`);
    return new Proc(inHost(host, [KSTREAM, ...args, "--config", this.config]), { cwd: this.dir, log });
  }

  kstream(args: string[], timeoutMs = 300_000, host = this.host): Promise<Result> {
    return this.spawn(args, host).result(timeoutMs);
  }

  /** The ledger's count of acknowledged records, read with sqlite directly (0 before the first run). */
  ledgerSent(): number {
    if (!existsSync(this.ledger)) return 0;
    try {
      const db = new Database(this.ledger, { readonly: true });
      try {
        return (db.query("SELECT COALESCE(SUM(sent), 0) AS n FROM runs").get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0; // not created yet, or locked by a migration
    }
  }

  /** Parquet files renamed into place (hidden temporary files not counted); a folder's only. */
  parquetFiles(): string[] {
    if (this.s3) throw new Error("parquetFiles() lists a folder; this workspace writes to S3 (parquetLineage reads it)");
    if (!existsSync(this.parquetDir)) return [];
    return readdirSync(this.parquetDir, { recursive: true })
      .map(String)
      .filter((name) => name.endsWith(".parquet") && !/(^|\/)\./.test(name));
  }
}

// ---------- input ----------

export async function generate(work: string, records: number): Promise<string> {
  const file = join(work, `input-${records}.ndjson`);
  if (!existsSync(file)) {
    const result = await run([BUN, join(ROOT, "scripts/gen-sample.ts"), "--records", String(records), "--out", file]);
    if (result.exitCode !== 0) throw new Error(`gen-sample failed: ${result.stderr}`);
  }
  return file;
}

export const inputLines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

// ---------- independent reads ----------

export interface KcatMessage {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: string[] | null;
}

/** Every message of a topic, read by kcat (inside `host`'s namespace when given). */
export async function kcat(brokers: string[], topic: string, isolation: "read_committed" | "read_uncommitted", host?: string): Promise<KcatMessage[]> {
  if ((await partitionsOf(brokers, topic, host)).length === 0) return [];
  const command = ["kcat", "-b", brokers.join(","), "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q", "-X", `isolation.level=${isolation}`];
  const result = await run(inHost(host, command), { timeoutMs: 180_000 });
  if (result.exitCode !== 0) throw new Error(`kcat ${topic}: ${lastLine(result.stderr)}`);
  return result.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as KcatMessage);
}

export function header(message: KcatMessage, name: string): string | undefined {
  const headers = message.headers ?? [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** `partition:offset` of every Parquet row, read by DuckDB (which fails on a damaged file: that is a finding too). */
export async function parquetLineage(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT source_partition, source_offset FROM read_parquet('${dir.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = false)`,
    );
    return reader.getRows().map(([partition, offset]) => `${partition}:${offset}`);
  } catch (error) {
    if (/No files found/.test(String(error))) return [];
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The [s3] table of a workspace on an S3 server: the key id and the secret's file from s3.sh's run folder. */
function s3Table(server: S3Server): string {
  const keyId = readFileSync(join(server.runDir, "access_key_id"), "utf8").trim();
  return `
[s3]
endpoint = "${server.endpoint}"
path_style = true
access_key_id = "${keyId}"
secret_access_key_file = "${join(server.runDir, "secret_access_key")}"
retry_limit = "60s"
`;
}

const PYTHON = join(ROOT, ".cache", "python", "bin", "python");

/**
 * pyarrow lists the workspace's objects (DuckDB's own glob cannot list versitygw's keys: README
 * "Parquet on S3"), then DuckDB with httpfs reads `partition:offset` of every row over S3; both
 * from PyPI (scripts/setup.sh), inside the workspace's host, the only place the S3 host answers.
 */
const S3_LINEAGE_PY = `
import duckdb, duckdb_ext, json, os, sys
import pyarrow.fs as pafs
endpoint = os.environ["S3_ENDPOINT"]
s3 = pafs.S3FileSystem(access_key=os.environ["KEY"], secret_key=os.environ["SECRET"], endpoint_override=endpoint, region="us-east-1")
infos = s3.get_file_info(pafs.FileSelector(sys.argv[1], recursive=True, allow_not_found=True))
keys = [i.path for i in infos if i.type == pafs.FileType.File and i.path.endswith(".parquet") and not os.path.basename(i.path).startswith(".")]
rows = []
if keys:
    con = duckdb.connect(config={"extension_directory": os.path.join(list(duckdb_ext.__path__)[0], "extensions"), "autoinstall_known_extensions": False})
    con.execute("LOAD httpfs")
    host = endpoint.split("://", 1)[1]
    con.execute(f"CREATE SECRET s3 (TYPE s3, KEY_ID '{os.environ['KEY']}', SECRET '{os.environ['SECRET']}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')")
    files = ", ".join("'s3://" + k.replace("'", "''") + "'" for k in keys)
    rows = con.execute(f"SELECT source_partition, source_offset FROM read_parquet([{files}], hive_partitioning = false)").fetchall()
print(json.dumps({"files": len(keys), "rows": [f"{p}:{o}" for p, o in rows]}))
`;

/** `partition:offset` of every Parquet row of a workspace on S3, read by DuckDB over S3 (S3_LINEAGE_PY). */
export async function s3Lineage(ws: Workspace): Promise<string[]> {
  const server = ws.s3!;
  const prefix = ws.parquetDir.replace(/^s3:\/\//, "");
  const env = {
    S3_ENDPOINT: server.endpoint,
    KEY: readFileSync(join(server.runDir, "access_key_id"), "utf8").trim(),
    SECRET: readFileSync(join(server.runDir, "secret_access_key"), "utf8").trim(),
  };
  const result = await run(inHost(ws.host, [PYTHON, "-c", S3_LINEAGE_PY, prefix]), { env, timeoutMs: 300_000 });
  if (result.exitCode !== 0) throw new Error(`DuckDB over S3 (${ws.parquetDir}) failed (${result.exitCode}): ${lastLine(result.stderr)}`);
  return (JSON.parse(result.stdout) as { rows: string[] }).rows;
}

/** Every Parquet row's `partition:offset`, from the workspace's folder or bucket. */
export const workspaceLineage = (ws: Workspace) => (ws.s3 ? s3Lineage(ws) : parquetLineage(ws.parquetDir));

export interface LedgerRun {
  id: string;
  status: string;
  sent: number;
  error: string | null;
}

/** Every offset range the ledger says the broker acknowledged (all runs), the runs themselves, and how many records are in doubt. */
export function readLedger(path: string): { ranges: { partition: number; first: number; last: number }[]; runs: LedgerRun[]; inDoubt: number } {
  if (!existsSync(path)) return { ranges: [], runs: [], inDoubt: 0 };
  const db = new Database(path, { readonly: true });
  try {
    return {
      ranges: db.query("SELECT partition, first_offset AS first, last_offset AS last FROM run_offsets").all() as { partition: number; first: number; last: number }[],
      runs: db.query("SELECT id, status, sent, error FROM runs ORDER BY started_at").all() as LedgerRun[],
      inDoubt: (db.query("SELECT COALESCE(SUM(count), 0) AS n FROM run_in_doubt").get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

// ---------- the verdict ----------

export interface Tally {
  records: number;
  lost: number;
  duplicated: number;
  problems: string[];
  /** Set when the scenario cannot run here (why): counted neither passed nor failed. */
  skipped?: string;
}

export const newTally = (records = 0): Tally => ({ records, lost: 0, duplicated: 0, problems: [] });

const countOf = (keys: Iterable<string>) => {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
};

const sample = (keys: string[]) => (keys.length ? ` (first: ${keys.slice(0, 5).join(" ")})` : "");

/**
 * The input topic against the input file: every line published exactly once, compared as
 * multisets (the generator repeats a few records on purpose). `complete` false: a run meant to stop
 * early, where only duplicates and strangers count.
 */
export function checkPublished(tally: Tally, lines: string[], input: KcatMessage[], complete = true): void {
  const expected = countOf(lines);
  const onTopic = countOf(input.map((m) => m.payload ?? ""));
  let lost = 0;
  let duplicated = 0;
  for (const [line, wanted] of expected) {
    const seen = onTopic.get(line) ?? 0;
    if (complete) lost += Math.max(0, wanted - seen);
    duplicated += Math.max(0, seen - wanted);
  }
  for (const [payload, seen] of onTopic) if (!expected.has(payload)) duplicated += seen;
  if (lost) tally.problems.push(`${lost} records of the input file are not on the input topic`);
  if (duplicated) tally.problems.push(`${duplicated} records are on the input topic more than once`);
  tally.lost += lost;
  tally.duplicated += duplicated;
}

/** The ledger against the input topic: every message on the topic counted exactly once, nothing counted that is not there. */
export function checkLedger(tally: Tally, ledgerPath: string, input: KcatMessage[]): void {
  const { ranges, runs } = readLedger(ledgerPath);
  const counted = new Map<string, number>();
  let inRanges = 0;
  for (const { partition, first, last } of ranges) {
    for (let offset = first; offset <= last; offset++) {
      const key = `${partition}:${offset}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
      inRanges++;
    }
  }
  const sent = runs.reduce((sum, r) => sum + r.sent, 0);
  const onTopic = new Set(input.map((m) => `${m.partition}:${m.offset}`));
  const uncounted = [...onTopic].filter((key) => !counted.has(key));
  const twice = [...counted].filter(([, n]) => n > 1).map(([key]) => key);
  const phantom = [...counted.keys()].filter((key) => !onTopic.has(key));
  if (uncounted.length) tally.problems.push(`${uncounted.length} messages on the input topic that the ledger does not count${sample(uncounted)}`);
  if (twice.length) tally.problems.push(`${twice.length} offsets counted twice in the ledger${sample(twice)}`);
  if (phantom.length) tally.problems.push(`${phantom.length} offsets in the ledger that the input topic does not hold${sample(phantom)}`);
  if (sent !== inRanges) tally.problems.push(`the ledger's runs say ${sent} sent, its offset ranges hold ${inRanges}`);
  tally.lost += uncounted.length + phantom.length;
  tally.duplicated += twice.length;
}

/** Every input offset in exactly one Parquet row or dead letter; every row in exactly one committed staging message, and no staging message without its row. */
export async function checkCleaned(tally: Tally, ws: Workspace, input: KcatMessage[]): Promise<void> {
  const [staging, deadLetters, rows] = await Promise.all([
    kcat(ws.brokers, ws.topics.staging, "read_committed", ws.host),
    kcat(ws.brokers, ws.topics.dead_letter, "read_committed", ws.host),
    workspaceLineage(ws),
  ]);
  const lineage = (m: KcatMessage) => `${header(m, "kstream-source-partition")}:${header(m, "kstream-source-offset")}`;
  const rowCounts = countOf(rows);
  const deadCounts = countOf(deadLetters.map(lineage));
  const stagingCounts = countOf(staging.map(lineage));
  const lost: string[] = [];
  const duplicated: string[] = [];
  const unstaged: string[] = [];
  const overStaged: string[] = [];
  for (const message of input) {
    const key = `${message.partition}:${message.offset}`;
    const row = rowCounts.get(key) ?? 0;
    const landed = row + (deadCounts.get(key) ?? 0);
    if (landed === 0) lost.push(key);
    if (landed > 1) duplicated.push(key);
    const staged = stagingCounts.get(key) ?? 0;
    if (row > 0 && staged === 0) unstaged.push(key);
    if (staged > 1 || (staged > 0 && row === 0)) overStaged.push(key);
  }
  const inputKeys = new Set(input.map((m) => `${m.partition}:${m.offset}`));
  const strangers = [...rowCounts.keys(), ...deadCounts.keys(), ...stagingCounts.keys()].filter((key) => !inputKeys.has(key));
  if (lost.length) tally.problems.push(`${lost.length} input offsets with neither a Parquet row nor a dead letter${sample(lost)}`);
  if (duplicated.length) tally.problems.push(`${duplicated.length} input offsets in more than one row or dead letter${sample(duplicated)}`);
  if (unstaged.length) tally.problems.push(`${unstaged.length} Parquet rows without their committed staging message${sample(unstaged)}`);
  if (overStaged.length) tally.problems.push(`${overStaged.length} offsets with an extra staging message${sample(overStaged)}`);
  if (strangers.length) tally.problems.push(`${strangers.length} rows, dead letters or staging messages of offsets the input topic does not hold${sample(strangers)}`);
  tally.lost += lost.length + unstaged.length;
  tally.duplicated += duplicated.length + overStaged.length + strangers.length;
  note(`checked: ${input.length} input messages, ${rows.length} Parquet rows (DuckDB${ws.s3 ? " over S3" : ""}), ${deadLetters.length} dead letters and ${staging.length} staging messages (kcat, read_committed)`);
}

export interface ReconReport {
  run: { id: string; status: string };
  published: number;
  landed: number;
  dead_lettered: number;
  pending: number;
  missing: number;
  duplicated: number;
  not_in_topic: number;
  verdict: "ok" | "behind" | "mismatch";
}

/** `kstream recon --all --json`: its reports and exit code. */
export async function recon(ws: Workspace): Promise<{ exitCode: number; reports: ReconReport[]; stderr: string }> {
  const result = await ws.kstream(["recon", "--all", "--json"], 120_000);
  let reports: ReconReport[] = [];
  try {
    reports = JSON.parse(result.stdout) as ReconReport[];
  } catch {
    // no JSON: the exit code and stderr say why
  }
  return { exitCode: result.exitCode, reports, stderr: result.stderr };
}

const sum = (reports: ReconReport[], pick: (r: ReconReport) => number) => reports.reduce((s, r) => s + pick(r), 0);
const describeRecon = (exitCode: number, reports: ReconReport[]) =>
  `recon exit ${exitCode}: ${reports.length} run(s), published ${sum(reports, (r) => r.published)}, landed ${sum(reports, (r) => r.landed + r.dead_lettered)}, ` +
  `pending ${sum(reports, (r) => r.pending)}, missing ${sum(reports, (r) => r.missing + r.not_in_topic)}, duplicated ${sum(reports, (r) => r.duplicated)}`;

/** recon must agree: exit 0, every run ok, and its published total equal to what the input topic holds. */
export async function checkRecon(tally: Tally, ws: Workspace, onTopic: number): Promise<void> {
  const { exitCode, reports, stderr } = await recon(ws);
  if (exitCode !== 0 || reports.some((r) => r.verdict !== "ok")) tally.problems.push(`kstream recon exit ${exitCode}: ${lastLine(stderr)}`);
  else if (reports.length === 0) tally.problems.push("kstream recon --all --json exited 0 but reported no run");
  const published = sum(reports, (r) => r.published);
  if (reports.length && published !== onTopic) tally.problems.push(`recon counts ${published} published, the input topic holds ${onTopic}`);
  note(describeRecon(exitCode, reports));
}

export interface ReconTopicReport {
  offsets: number;
  landed: number;
  dead_lettered: number;
  not_data: number;
  pending: number;
  missing: number;
  duplicated: number;
  verdict: "ok" | "behind" | "mismatch";
}

/**
 * `kstream recon --topic --json`, which needs no ledger (so it is asked on `host`, which need not
 * be where produce ran): exit 0, verdict ok, and every offset of the input topic landed or
 * dead-lettered once.
 */
export async function checkReconTopic(tally: Tally, ws: Workspace, onTopic: number, host = ws.host): Promise<void> {
  const result = await ws.kstream(["recon", "--topic", "--json"], 120_000, host);
  let report: ReconTopicReport | undefined;
  try {
    report = JSON.parse(result.stdout) as ReconTopicReport;
  } catch {
    // no JSON: the exit code and stderr say why
  }
  const where = host ? ` (on ${host})` : "";
  if (result.exitCode !== 0 || report?.verdict !== "ok") {
    tally.problems.push(`kstream recon --topic${where} exit ${result.exitCode}: ${lastLine(result.stderr)}`);
  } else if (report.landed + report.dead_lettered !== onTopic) {
    tally.problems.push(`recon --topic${where} counts ${report.landed + report.dead_lettered} landed or dead-lettered, the input topic holds ${onTopic}`);
  }
  if (report) {
    note(`recon --topic${where} exit ${result.exitCode}: ${report.offsets} offsets, landed ${report.landed + report.dead_lettered}, pending ${report.pending}, missing ${report.missing}, duplicated ${report.duplicated}`);
  }
}

/**
 * Consistency part-way (after a failure, before the final run): recon finds nothing missing or
 * duplicated below the committed offsets; pending is allowed (exit 0 or 1, never 3). Run right
 * after a broker restart, recon itself may fail while the group coordinator loads: it is asked
 * again (for up to 30 s) and that is reported, since it is recon's problem, not the scenario's.
 */
export async function checkConsistentSoFar(tally: Tally, ws: Workspace, when: string): Promise<ReconReport[]> {
  let answer = await recon(ws);
  for (let attempt = 0; answer.reports.length === 0 && attempt < 15; attempt++) {
    note(`${when}: kstream recon failed (exit ${answer.exitCode}): ${lastLine(answer.stderr)}; asking again in 2 s`);
    await sleep(2000);
    answer = await recon(ws);
  }
  const { exitCode, reports, stderr } = answer;
  const bad = sum(reports, (r) => r.missing + r.duplicated + r.not_in_topic);
  if (!(exitCode === 0 || exitCode === 1) || reports.length === 0 || bad > 0) {
    tally.problems.push(`${when}: recon exit ${exitCode} (${bad} missing or duplicated): ${lastLine(stderr)}`);
  }
  note(`${when}: ${describeRecon(exitCode, reports)}`);
  return reports;
}

/** The usual end of a scenario: the input topic against the file and the ledger, the output against the input topic, and recon. */
export async function checkAll(tally: Tally, ws: Workspace, lines: string[] | undefined): Promise<void> {
  const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted", ws.host);
  if (lines) checkPublished(tally, lines, input);
  checkLedger(tally, ws.ledger, input);
  await checkOutput(tally, ws, input);
}

/** The output against the input topic (Parquet, dead letters, staging), and recon agreeing with the topic. */
export async function checkOutput(tally: Tally, ws: Workspace, input: KcatMessage[]): Promise<void> {
  await checkCleaned(tally, ws, input);
  await checkRecon(tally, ws, input.length);
}

export function expectExit(tally: Tally, result: Result, code: number, what: string): void {
  if (result.exitCode !== code || result.timedOut) {
    tally.problems.push(
      `${what} exited ${result.timedOut ? "(killed at its time limit) " : ""}${result.exitCode}${result.signal ? ` (${result.signal})` : ""}, expected ${code}: ${lastLine(result.stderr)}`,
    );
  }
}

/** The "read N" of a stream-clean summary line (caught up / stopped). */
export function readCount(stderr: string): number | undefined {
  const match = /(?:caught up|stopped): read ([\d,]+)/.exec(stderr);
  return match ? Number(match[1]!.replaceAll(",", "")) : undefined;
}

/** The last "kstream <command>: ..." line (the one-line error main.ts prints), else the last line. */
export const errorLine = (stderr: string, command: string) =>
  stderr
    .split("\n")
    .filter((line) => line.includes(`kstream ${command}: `))
    .pop() ?? lastLine(stderr);
