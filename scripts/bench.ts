/**
 * Benchmarks of the compiled kstream against a baseline tool we did not write (kcat), on the local
 * broker, in the same run. Prints a Markdown table on stdout and writes JSON under bench-results/.
 * Each figure is the median of --runs runs after one warm-up; min and max are shown because this
 * machine is shared and noisy. Figures only: nothing here passes or fails. Run it through
 * scripts/bench.sh, which installs, starts the broker and builds the binary first.
 *
 *   bun scripts/bench.ts [--records 1000000] [--runs 3] [--stages produce,clean,measure,recon,e2e,help]
 *   (--stages compact: a day of small files merged by kstream compact, files and bytes before/after)
 *                        [--scale] [--scale-records 1000000] [--scale-sizes 100000,1000000,5000000] [--profile]
 *                        [--broker 127.0.0.1:9092] [--log-dirs DIR,...]
 *
 * The stage "codecs" (not in the default list: --stages codecs) adds two tables: per Kafka codec,
 * produce records/s, the input topic's bytes on the broker (its log segments under --log-dirs),
 * stream-clean records/s sending staging in that codec and the staging bytes; per Parquet codec,
 * stream-clean rows/s and the files' bytes. Modest --records (200000) keep it to a few minutes.
 *
 * The stage "s3" (not in the default list: --stages s3) cleans one input topic into a local
 * folder and into a bucket of the S3 server of scripts/s3.sh on --s3-port (started beforehand;
 * its credentials are read from its folder), alternating, then runs recon on each output: the
 * rows "clean → local disk", "clean → S3", "recon (local disk)", "recon (S3)".
 *
 * --scale adds a table: stream-clean throughput with 1, 3 and 6 input partitions and 1 or 2
 * processes in one group, and with 0, 1 and 2 clean workers (clean.workers) in one process (on
 * --scale-records), then, for each of --scale-sizes, stream-clean of a 6-partition topic by 1 and
 * by 2 processes and the end-to-end wall time.
 *
 * --profile adds a table of where the CPU goes per stage (produce, stream-clean, batch-measure):
 * each is run once more by a binary built without --minify into a temporary folder, under
 * `bun --cpu-prof`, and its profile split by module (scripts/bench-profile.ts).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { breakdownTable, buildProfilingBinary, cpuBreakdown, profilingEnv, type CpuBreakdown } from "./bench-profile.ts";

const { values: flags } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    stages: { type: "string", default: "produce,clean,measure,recon,e2e,help" },
    scale: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    "scale-records": { type: "string", default: "1000000" },
    "scale-sizes": { type: "string", default: "100000,1000000,5000000" },
    broker: { type: "string", default: process.env.KSTREAM_TEST_BROKER ?? "127.0.0.1:9092" },
    "log-dirs": { type: "string", default: "" },
    "s3-port": { type: "string", default: process.env.S3_PORT ?? "9000" },
  },
});

const ROOT = resolve(import.meta.dir, "..");
const KSTREAM = join(ROOT, "dist", "kstream");
const records = Number(flags.records);
const runs = Math.max(1, Number(flags.runs));
const broker = flags.broker!;
const logDirs = flags["log-dirs"]!.split(",").filter((dir) => dir !== "");
const work = join(tmpdir(), `kstream-bench-${process.pid}`);
mkdirSync(work, { recursive: true });

interface Sample {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

interface Row {
  stage: string;
  tool: string;
  records: number;
  bytes: number;
  samples: Sample[];
}

/** Runs a command to completion, measuring wall time, CPU and peak RSS of that process. */
async function measure(command: string[], options: { stdinFile?: string; env?: Record<string, string> } = {}): Promise<Sample> {
  const started = performance.now();
  const child = Bun.spawn(command, {
    stdin: options.stdinFile ? Bun.file(options.stdinFile) : "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
  });
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (exitCode !== 0) throw new Error(`${command.join(" ")} exited ${exitCode}:\n${stderr}`);
  const usage = child.resourceUsage()!;
  return { wallSeconds, cpuSeconds: Number(usage.cpuTime.total) / 1e6, peakRssMb: usage.maxRSS / 1024 / 1024 };
}

function uniqueTopic(label: string): string {
  return `bench_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

function benchConfig(topic: string, ledger: string, run = "", partitions = 3, extra: { produce?: string; clean?: string } = {}): string {
  const path = join(work, `${topic}${run}.toml`);
  writeFileSync(
    path,
    `[kafka]\nbrokers = ["${broker}"]\n[topics]\ninput = "${topic}"\nstaging = "${topic}${run}_stage"\ndead_letter = "${topic}${run}_dlq"\npartitions = ${partitions}\n` +
      `[ledger]\npath = "${ledger}"\n[clean]\ngroup_id = "${topic}${run}_group"\nparquet_dir = "${join(work, `${topic}${run}_parquet`)}"\n${extra.clean ?? ""}\n` +
      `[produce]\n${extra.produce ?? ""}\n`,
  );
  return path;
}

async function stageProduce(input: string, bytes: number): Promise<Row[]> {
  const kstreamRow: Row = { stage: "produce", tool: "kstream produce", records, bytes, samples: [] };
  const kcatRow: Row = { stage: "produce", tool: "kcat -P", records, bytes, samples: [] };
  for (let i = 0; i <= runs; i++) {
    const topic = uniqueTopic("produce");
    const config = benchConfig(topic, join(work, `${topic}.db`));
    const ours = await measure([KSTREAM, "produce", input, "--config", config, "--quiet"]);
    const kcatTopic = uniqueTopic("kcat");
    // kstream creates its topics itself; give the kcat baseline the same 3-partition topic up front.
    await measure([KSTREAM, "produce", input, "--config", benchConfig(kcatTopic, join(work, "x.db")), "--limit", "0", "--quiet"]);
    const theirs = await measure(["kcat", "-b", broker, "-P", "-t", kcatTopic, "-X", "acks=all", "-X", "enable.idempotence=true", "-l", input]);
    if (i === 0) continue; // warm-up
    kstreamRow.samples.push(ours);
    kcatRow.samples.push(theirs);
  }
  return [kstreamRow, kcatRow];
}

/** The config of the last clean run: batch-measure and recon measure on its output. */
let lastCleanConfig: string | undefined;

/** One input topic produced once; each run cleans it with a fresh group, staging topics and folder. */
async function stageClean(input: string, bytes: number): Promise<Row[]> {
  const kstreamRow: Row = { stage: "clean", tool: "kstream stream-clean", records, bytes, samples: [] };
  const kcatRow: Row = { stage: "clean", tool: "kcat -C", records, bytes, samples: [] };
  const topic = uniqueTopic("clean");
  await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, "clean.db")), "--quiet"]);
  for (let i = 0; i <= runs; i++) {
    const config = benchConfig(topic, join(work, "clean.db"), `_run${i}`);
    const ours = await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"]);
    const theirs = await measure(["kcat", "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"]);
    if (i < runs) rmSync(join(work, `${topic}_run${i}_parquet`), { recursive: true, force: true });
    else lastCleanConfig = config;
    if (i === 0) continue; // warm-up
    kstreamRow.samples.push(ours);
    kcatRow.samples.push(theirs);
  }
  return [kstreamRow, kcatRow];
}

/**
 * stream-clean of one topic into a folder and into a bucket, alternating run by run (so the
 * machine's noise falls on both alike), then recon on each output.
 */
async function stageS3(input: string, bytes: number): Promise<Row[]> {
  const port = flags["s3-port"]!;
  const runDir = join(ROOT, ".cache", "s3-run", port);
  if (!existsSync(join(runDir, "secret_access_key"))) throw new Error(`the s3 stage needs S3_PORT=${port} scripts/s3.sh up first`);
  const env = { AWS_ACCESS_KEY_ID: (await Bun.file(join(runDir, "access_key_id")).text()).trim(), AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_REGION: "us-east-1" };
  const s3Table = `[s3]\nsecret_access_key_file = "${join(runDir, "secret_access_key")}"\n`;
  const rows = {
    local: { stage: "clean", tool: "clean → local disk", records, bytes, samples: [] } as Row,
    s3: { stage: "clean", tool: "clean → S3", records, bytes, samples: [] } as Row,
    reconLocal: { stage: "recon", tool: "recon (local disk)", records, bytes, samples: [] } as Row,
    reconS3: { stage: "recon", tool: "recon (S3)", records, bytes, samples: [] } as Row,
  };
  const topic = uniqueTopic("s3");
  await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, "s3.db")), "--quiet"]);
  for (let i = 0; i <= runs; i++) {
    const localConfig = benchConfig(topic, join(work, "s3.db"), `_local${i}`);
    const s3Config = benchConfig(topic, join(work, "s3.db"), `_s3${i}`);
    writeFileSync(s3Config, (await Bun.file(s3Config).text()).replace(/parquet_dir = .*\n/, `parquet_dir = "s3://kstream/bench-${topic}-${i}"\n`) + s3Table);
    const local = await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", localConfig, "--quiet"]);
    const s3 = await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", s3Config, "--quiet"], { env });
    const reconLocal = await measure([KSTREAM, "recon", "--config", localConfig, "--quiet"]);
    const reconS3 = await measure([KSTREAM, "recon", "--config", s3Config, "--quiet"], { env });
    rmSync(join(work, `${topic}_local${i}_parquet`), { recursive: true, force: true });
    if (i === 0) continue; // warm-up
    rows.local.samples.push(local);
    rows.s3.samples.push(s3);
    rows.reconLocal.samples.push(reconLocal);
    rows.reconS3.samples.push(reconS3);
  }
  return [rows.local, rows.s3, rows.reconLocal, rows.reconS3];
}

/** batch-measure or recon on the last clean run's output; no baseline tool does the same job. */
async function stageOnCleanOutput(stage: "measure" | "recon", bytes: number): Promise<Row[]> {
  if (!lastCleanConfig) throw new Error(`the ${stage} stage needs the clean stage first`);
  const row: Row = { stage, tool: `kstream ${stage === "measure" ? "batch-measure" : "recon"}`, records, bytes, samples: [] };
  const command = stage === "measure" ? ["batch-measure"] : ["recon"];
  for (let i = 0; i <= runs; i++) {
    const sample = await measure([KSTREAM, ...command, "--config", lastCleanConfig, "--quiet"]);
    if (i > 0) row.samples.push(sample);
  }
  return [row];
}

/** Files and bytes of the Parquet files (not hidden ones) in one folder. */
function folderFigures(dir: string): { files: number; bytes: number } {
  const names = readdirSync(dir).filter((name) => name.endsWith(".parquet") && !name.startsWith("."));
  return { files: names.length, bytes: names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0) };
}

const compactLines: string[] = [];

/**
 * A day of small files (stream-clean closing a file every 500 rows, the folder then dated to a
 * past day), merged by kstream compact: files and bytes before and after, and the time.
 */
async function stageCompact(input: string, bytes: number): Promise<Row[]> {
  const row: Row = { stage: "compact", tool: "kstream compact", records, bytes, samples: [] };
  const topic = uniqueTopic("compact");
  const config = benchConfig(topic, join(work, "compact.db"), "", 3, { clean: "file_max_rows = 500" });
  await measure([KSTREAM, "produce", input, "--config", config, "--quiet"]);
  await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"]);
  const parquetDir = join(work, `${topic}_parquet`);
  const pastDay = join(parquetDir, "ingest_date=2020-01-01");
  mkdirSync(pastDay, { recursive: true });
  for (const folder of readdirSync(parquetDir).filter((name) => name.startsWith("ingest_date=") && name !== "ingest_date=2020-01-01")) {
    for (const name of readdirSync(join(parquetDir, folder))) renameSync(join(parquetDir, folder, name), join(pastDay, name));
  }
  const before = folderFigures(pastDay);
  row.samples.push(await measure([KSTREAM, "compact", "--config", config, "--quiet"]));
  const after = folderFigures(pastDay);
  const recon = Bun.spawnSync([KSTREAM, "recon", "--config", config, "--quiet"]);
  const whole = (n: number) => Math.round(n).toLocaleString("en-US");
  compactLines.push(
    `compact, ${whole(records)} records: ${whole(before.files)} files, ${(before.bytes / 1e6).toFixed(1)} MB -> ${whole(after.files)} files, ` +
      `${(after.bytes / 1e6).toFixed(1)} MB in ${row.samples[0]!.wallSeconds.toFixed(2)} s (peak RSS ${whole(row.samples[0]!.peakRssMb)} MB); recon exit ${recon.exitCode}`,
  );
  return [row];
}

/** produce -> stream-clean -> batch-measure -> recon on fresh topics, timed as one job. */
async function stageEndToEnd(input: string, bytes: number, count = records, repeat = runs): Promise<Row[]> {
  const row: Row = { stage: "e2e", tool: "produce → clean → measure → recon", records: count, bytes, samples: [] };
  for (let i = 0; i <= repeat; i++) {
    const topic = uniqueTopic("e2e");
    const config = benchConfig(topic, join(work, `${topic}.db`));
    const steps = [["produce", input], ["stream-clean", "--until-caught-up"], ["batch-measure"], ["recon"]];
    const total: Sample = { wallSeconds: 0, cpuSeconds: 0, peakRssMb: 0 };
    for (const step of steps) {
      const sample = await measure([KSTREAM, ...step, "--config", config, "--quiet"]);
      total.wallSeconds += sample.wallSeconds;
      total.cpuSeconds += sample.cpuSeconds;
      total.peakRssMb = Math.max(total.peakRssMb, sample.peakRssMb);
    }
    rmSync(join(work, `${topic}_parquet`), { recursive: true, force: true });
    if (i > 0 || repeat === 0) row.samples.push(total);
  }
  return [row];
}

/** `kstream --help` from the compiled binary: start-up cost, what every cron run pays. */
async function stageHelp(): Promise<Row[]> {
  const row: Row = { stage: "help", tool: "kstream --help", records: 1, bytes: 0, samples: [] };
  for (let i = 0; i <= 10; i++) {
    const sample = await measure([KSTREAM, "--help"]);
    if (i > 0) row.samples.push(sample);
  }
  return [row];
}

/**
 * stream-clean with the input topic split into 1, 3 or 6 partitions, run by 1 or 2 processes of
 * one group (each process --until-caught-up on its share); wall time is until both are done.
 */
async function scalePartitions(input: string, bytes: number, count: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const partitions of [1, 3, 6]) {
    const topic = uniqueTopic(`scale${partitions}`);
    await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, `${topic}.db`), "", partitions), "--quiet"]);
    for (const processes of partitions === 1 ? [1] : [1, 2]) {
      const row: Row = { stage: `clean, ${partitions} partition${partitions > 1 ? "s" : ""}`, tool: `${processes} process${processes > 1 ? "es" : ""}`, records: count, bytes, samples: [] };
      for (let i = 0; i < Math.max(1, runs - 1); i++) {
        const config = benchConfig(topic, join(work, `${topic}.db`), `_p${processes}_${i}`, partitions);
        const started = performance.now();
        const samples = await Promise.all(
          Array.from({ length: processes }, () => measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"])),
        );
        row.samples.push({
          wallSeconds: (performance.now() - started) / 1000,
          cpuSeconds: samples.reduce((sum, sample) => sum + sample.cpuSeconds, 0),
          peakRssMb: Math.max(...samples.map((sample) => sample.peakRssMb)),
        });
        rmSync(join(work, `${topic}_p${processes}_${i}_parquet`), { recursive: true, force: true });
      }
      rows.push(row);
    }
  }
  return rows;
}

/**
 * stream-clean of `count` records on a 3-partition topic by one process with 0, 1 and 2 clean
 * workers (clean.workers: cleaning and Parquet encoding on worker threads, the Kafka side on the
 * main thread).
 */
async function scaleWorkers(input: string, bytes: number, count: number): Promise<Row[]> {
  const rows: Row[] = [];
  const topic = uniqueTopic("scalew");
  await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, `${topic}.db`)), "--quiet"]);
  for (const workers of [0, 1, 2]) {
    const row: Row = { stage: "clean, 3 partitions, 1 process", tool: `${workers} clean worker${workers === 1 ? "" : "s"}`, records: count, bytes, samples: [] };
    for (let i = 0; i < Math.max(1, runs - 1); i++) {
      const config = benchConfig(topic, join(work, `${topic}.db`), `_w${workers}_${i}`, 3, { clean: `workers = ${workers}` });
      row.samples.push(await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"]));
      rmSync(join(work, `${topic}_w${workers}_${i}_parquet`), { recursive: true, force: true });
    }
    rows.push(row);
  }
  return rows;
}

/**
 * stream-clean of `count` records on a 6-partition topic by 1 and by 2 processes of one group: a
 * second process is another way to a second core.
 */
async function scaleProcesses(input: string, bytes: number, count: number): Promise<Row[]> {
  const rows: Row[] = [];
  const topic = uniqueTopic(`scalep${count}`);
  await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, `${topic}.db`), "", 6), "--quiet"]);
  for (const processes of [1, 2]) {
    const config = benchConfig(topic, join(work, `${topic}.db`), `_p${processes}`, 6);
    const started = performance.now();
    const samples = await Promise.all(
      Array.from({ length: processes }, () => measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"])),
    );
    rows.push({
      stage: `clean, ${fmt(count)} records, 6 partitions`,
      tool: `${processes} process${processes > 1 ? "es" : ""}`,
      records: count,
      bytes,
      samples: [{
        wallSeconds: (performance.now() - started) / 1000,
        cpuSeconds: samples.reduce((sum, sample) => sum + sample.cpuSeconds, 0),
        peakRssMb: Math.max(...samples.map((sample) => sample.peakRssMb)),
      }],
    });
    rmSync(join(work, `${topic}_p${processes}_parquet`), { recursive: true, force: true });
  }
  return rows;
}

/**
 * produce, stream-clean and batch-measure once each under `bun --cpu-prof`; their CPU by module.
 * A profiled Bun process now and then dies of signal 30 (the profiler's thread-suspend signal):
 * such a run is repeated on fresh names (a new topic, or a new group and staging topics).
 */
async function profileStages(input: string): Promise<{ stage: string; breakdown: CpuBreakdown }[]> {
  const binary = await buildProfilingBinary(ROOT, work);
  const result: { stage: string; breakdown: CpuBreakdown }[] = [];
  const topic = uniqueTopic("profile");
  const ledger = join(work, `${topic}.db`);
  let attempt = 0;
  const profiled = async (stage: string, command: (run: string) => string[]): Promise<string> => {
    for (let tries = 0; ; tries++) {
      const run = `_a${attempt++}`;
      const dir = join(work, `profile${run}`);
      mkdirSync(dir, { recursive: true });
      try {
        await measure([binary, ...command(run), "--quiet"], { env: profilingEnv(dir) });
      } catch (error) {
        if (tries < 3 && /exited 158/.test(String(error))) continue;
        throw error;
      }
      const profiles = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
      if (profiles.length !== 1) throw new Error(`expected one profile of ${stage} in ${dir}, found ${profiles.length}`);
      result.push({ stage, breakdown: cpuBreakdown(join(dir, profiles[0]!)) });
      return run;
    }
  };
  let produced = "";
  await profiled("produce", (run) => {
    produced = `${topic}${run}`;
    return ["produce", input, "--config", benchConfig(produced, ledger)];
  });
  const cleanRun = await profiled("clean", (run) => ["stream-clean", "--until-caught-up", "--config", benchConfig(produced, ledger, run)]);
  await profiled("measure", () => ["batch-measure", "--config", benchConfig(produced, ledger, cleanRun)]);
  return result;
}

/**
 * Bytes a topic holds on the broker: the sizes of its partitions' log segments in the broker
 * data folders given by --log-dirs (scripts/bench.sh passes the local broker's). Undefined
 * without them.
 */
function topicBytesOnBroker(topic: string): number | undefined {
  if (logDirs.length === 0) return undefined;
  let total = 0;
  for (const dir of logDirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!new RegExp(`^${topic.replaceAll(".", "\\.")}-\\d+$`).test(name)) continue;
      for (const file of readdirSync(join(dir, name))) if (file.endsWith(".log")) total += statSync(join(dir, name, file)).size;
    }
  }
  return total;
}

function folderBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  if (!existsSync(dir)) return { bytes, files };
  for (const name of readdirSync(dir, { recursive: true })) {
    if (!String(name).endsWith(".parquet")) continue;
    bytes += statSync(join(dir, String(name))).size;
    files++;
  }
  return { bytes, files };
}

interface CodecRow {
  kind: "kafka" | "parquet";
  codec: string;
  records: number;
  /** produce records/s (Kafka codecs) or stream-clean records/s (Parquet codecs), median of the runs. */
  writeRecordsPerSecond: number;
  /** stream-clean records/s reading the topic and sending staging with this codec (Kafka codecs). */
  cleanRecordsPerSecond?: number;
  /** Input topic (Kafka codecs) or Parquet files (Parquet codecs). */
  bytes: number | undefined;
  /** Staging + dead-letter topics written by stream-clean with this codec (Kafka codecs). */
  stagingBytes?: number | undefined;
}

const KAFKA_CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];
const PARQUET_CODECS = ["snappy", "zstd", "gzip", "lz4_raw", "uncompressed"];

/**
 * Per Kafka codec: produce records/s and the input topic's bytes on the broker; stream-clean
 * records/s over that topic with the same codec for staging, and the staging bytes. Per Parquet
 * codec: stream-clean records/s and the files' bytes (over one lz4 input topic).
 */
async function stageCodecs(input: string): Promise<CodecRow[]> {
  const result: CodecRow[] = [];
  for (const codec of KAFKA_CODECS) {
    const produceSamples: Sample[] = [];
    let topic = "";
    for (let i = 0; i <= runs; i++) {
      topic = uniqueTopic(`codec_${codec}`);
      const config = benchConfig(topic, join(work, `${topic}.db`), "", 3, { produce: `compression = "${codec}"` });
      const sample = await measure([KSTREAM, "produce", input, "--config", config, "--quiet"]);
      if (i > 0) produceSamples.push(sample);
    }
    const cleanConfig = benchConfig(topic, join(work, `${topic}.db`), "_clean", 3, { clean: `send_compression = "${codec}"` });
    const clean = await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", cleanConfig, "--quiet"]);
    const staging = [topicBytesOnBroker(`${topic}_clean_stage`), topicBytesOnBroker(`${topic}_clean_dlq`)];
    result.push({
      kind: "kafka",
      codec,
      records,
      writeRecordsPerSecond: median(produceSamples.map((s) => records / s.wallSeconds)),
      cleanRecordsPerSecond: records / clean.wallSeconds,
      bytes: topicBytesOnBroker(topic),
      stagingBytes: staging.includes(undefined) ? undefined : (staging[0] ?? 0) + (staging[1] ?? 0),
    });
  }
  const topic = uniqueTopic("codec_parquet");
  await measure([KSTREAM, "produce", input, "--config", benchConfig(topic, join(work, `${topic}.db`), "", 3, { produce: 'compression = "lz4"' }), "--quiet"]);
  for (const codec of PARQUET_CODECS) {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i <= runs; i++) {
      const run = `_${codec}_${i}`;
      const config = benchConfig(topic, join(work, `${topic}.db`), run, 3, { clean: `compression = "${codec}"` });
      const sample = await measure([KSTREAM, "stream-clean", "--until-caught-up", "--config", config, "--quiet"]);
      bytes = folderBytes(join(work, `${topic}${run}_parquet`)).bytes;
      rmSync(join(work, `${topic}${run}_parquet`), { recursive: true, force: true });
      if (i > 0) samples.push(records / sample.wallSeconds);
    }
    result.push({ kind: "parquet", codec, records, writeRecordsPerSecond: median(samples), bytes });
  }
  return result;
}

function codecTables(rows: CodecRow[], inputBytes: number): string[] {
  const mb = (n: number | undefined) => (n === undefined ? "—" : fmt(n / 1e6, 1));
  const ratio = (n: number | undefined) => (n === undefined ? "—" : fmt(inputBytes / n, 1));
  const lines = [
    "",
    `Kafka codecs (${fmt(records)} records, ${mb(inputBytes)} MB of NDJSON; topic bytes = log segments on the broker):`,
    "",
    "| codec | produce records/s | input topic MB | ratio | stream-clean records/s (staging in this codec) | staging + DLQ MB |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows.filter((r) => r.kind === "kafka")) {
    lines.push(`| ${row.codec} | ${fmt(row.writeRecordsPerSecond)} | ${mb(row.bytes)} | ${ratio(row.bytes)} | ${fmt(row.cleanRecordsPerSecond ?? 0)} | ${mb(row.stagingBytes)} |`);
  }
  const parquet = rows.filter((r) => r.kind === "parquet");
  const plain = parquet.find((r) => r.codec === "uncompressed")?.bytes;
  lines.push("", "Parquet codecs (stream-clean over one lz4 topic):", "", "| codec | stream-clean rows/s | Parquet MB | size vs uncompressed |", "|---|---|---|---|");
  for (const row of parquet) {
    const share = plain && row.bytes !== undefined ? `${fmt((100 * row.bytes) / plain)} %` : "—";
    lines.push(`| ${row.codec} | ${fmt(row.writeRecordsPerSecond)} | ${mb(row.bytes)} | ${share} |`);
  }
  return lines;
}

async function generate(count: number, path: string): Promise<number> {
  const generator = Bun.spawn(["node_modules/.bin/bun", "scripts/gen-sample.ts", "--records", String(count), "--out", path], { cwd: ROOT, stderr: "inherit" });
  if ((await generator.exited) !== 0) throw new Error("gen-sample failed");
  return statSync(path).size;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarize(row: Row) {
  const perSecond = row.samples.map((s) => row.records / s.wallSeconds);
  return {
    stage: row.stage,
    tool: row.tool,
    records: row.records,
    records_per_second: { median: median(perSecond), min: Math.min(...perSecond), max: Math.max(...perSecond) },
    mb_per_second: median(row.samples.map((s) => row.bytes / 1e6 / s.wallSeconds)),
    wall_seconds: median(row.samples.map((s) => s.wallSeconds)),
    cpu_seconds: median(row.samples.map((s) => s.cpuSeconds)),
    peak_rss_mb: { median: median(row.samples.map((s) => s.peakRssMb)), max: Math.max(...row.samples.map((s) => s.peakRssMb)) },
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const input = join(work, "input.ndjson");
  const bytes = await generate(records, input);

  const rows: Row[] = [];
  const stages = flags.stages!.split(",");
  if (stages.includes("produce")) rows.push(...(await stageProduce(input, bytes)));
  if (stages.includes("clean")) rows.push(...(await stageClean(input, bytes)));
  if (stages.includes("measure")) rows.push(...(await stageOnCleanOutput("measure", bytes)));
  if (stages.includes("recon")) rows.push(...(await stageOnCleanOutput("recon", bytes)));
  if (stages.includes("e2e")) rows.push(...(await stageEndToEnd(input, bytes)));
  if (stages.includes("help")) rows.push(...(await stageHelp()));
  if (stages.includes("compact")) rows.push(...(await stageCompact(input, bytes)));
  if (stages.includes("s3")) rows.push(...(await stageS3(input, bytes)));
  const codecRows = stages.includes("codecs") ? await stageCodecs(input) : [];
  const scaleRows: Row[] = [];
  if (flags.scale) {
    const scaleRecords = Number(flags["scale-records"]);
    const scaleInput = join(work, "scale.ndjson");
    const scaleBytes = scaleRecords === records ? bytes : await generate(scaleRecords, scaleInput);
    scaleRows.push(...(await scalePartitions(scaleRecords === records ? input : scaleInput, scaleBytes, scaleRecords)));
    scaleRows.push(...(await scaleWorkers(scaleRecords === records ? input : scaleInput, scaleBytes, scaleRecords)));
    for (const size of flags["scale-sizes"]!.split(",").map(Number)) {
      const sizeInput = join(work, `size-${size}.ndjson`);
      const sizeBytes = await generate(size, sizeInput);
      // One run per size (the biggest takes minutes); the partition table above shows the noise.
      scaleRows.push(...(await scaleProcesses(sizeInput, sizeBytes, size)));
      const [row] = await stageEndToEnd(sizeInput, sizeBytes, size, 0);
      scaleRows.push({ ...row!, stage: `e2e, ${fmt(size)} records` });
      rmSync(sizeInput, { force: true });
    }
  }

  const profileRows = flags.profile ? await profileStages(input) : [];

  const summaries = rows.map(summarize);
  const cpus = navigator.hardwareConcurrency;
  const memoryGb = Math.round(Number((await Bun.file("/proc/meminfo").text()).match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 1024 / 1024);
  const header = `kstream benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus} cores, ${memoryGb} GB, ${fmt(records)} records (${fmt(bytes / 1e6, 1)} MB), median of ${runs} runs after a warm-up`;
  const lines = [
    header,
    "",
    "| stage | tool | records/s (min–max) | MB/s | wall s | CPU s | peak RSS MB | ratio to baseline |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const summary of summaries) {
    const baseline = summaries.find((s) => s.stage === summary.stage && s.tool.startsWith("kcat"));
    const ratio = baseline && baseline !== summary ? fmt(summary.records_per_second.median / baseline.records_per_second.median, 2) : "—";
    lines.push(
      `| ${summary.stage} | ${summary.tool} | ${fmt(summary.records_per_second.median)} (${fmt(summary.records_per_second.min)}–${fmt(summary.records_per_second.max)}) | ${fmt(summary.mb_per_second, 1)} | ${fmt(summary.wall_seconds, 2)} | ${fmt(summary.cpu_seconds, 2)} | ${fmt(summary.peak_rss_mb.median)} | ${ratio} |`,
    );
  }
  if (scaleRows.length > 0) {
    lines.push("", "Scale (one broker on the same machine):", "", "| run | processes / tool | records | records/s (min–max) | wall s | CPU s | peak RSS MB |", "|---|---|---|---|---|---|---|");
    for (const summary of scaleRows.map(summarize)) {
      lines.push(
        `| ${summary.stage} | ${summary.tool} | ${fmt(summary.records)} | ${fmt(summary.records_per_second.median)} (${fmt(summary.records_per_second.min)}–${fmt(summary.records_per_second.max)}) | ${fmt(summary.wall_seconds, 2)} | ${fmt(summary.cpu_seconds, 2)} | ${fmt(summary.peak_rss_mb.max)} |`,
      );
    }
  }
  if (codecRows.length > 0) lines.push(...codecTables(codecRows, bytes));
  lines.push(...compactLines);
  if (profileRows.length > 0) lines.push(...breakdownTable(profileRows));
  console.log(lines.join("\n"));
  const resultsDir = join(ROOT, "bench-results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `bench-${new Date().toISOString().replaceAll(":", "-")}.json`);
  writeFileSync(file, JSON.stringify({ header, cpus, memoryGb, records, bytes, runs, results: summaries, scale: scaleRows.map(summarize), codecs: codecRows, profile: profileRows }, null, 2));
  console.error(`results: ${file}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
