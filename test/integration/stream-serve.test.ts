/**
 * `stream-clean --serve` against the real broker: /metrics scraped several times while records
 * arrive parses with the Prometheus project's own parser (prometheus_client), its counts grow, and
 * once everything is committed they equal the final `--json` summary, the dead letters kcat reads
 * (by reason) and the Parquet bytes on disk; /healthz is 200 while the run works, and 503 with the
 * reason while a broker outage (a second broker of its own, KSTREAM_TEST_OUTAGE_PORT, default
 * 19215) stops its partitions' cycles, then 200 again. A port already taken is one line, exit 2.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BROKER, KSTREAM_BIN, createWorkspace, headerValue, kcatConsume, type RunResult, type Workspace } from "./harness.ts";

const REPO = resolve(import.meta.dir, "../..");
const PYTHON = resolve(REPO, ".cache/python/bin/python");
const OUTAGE_PORT = Number(process.env.KSTREAM_TEST_OUTAGE_PORT ?? 19215);
const OUTAGE_BROKER = `127.0.0.1:${OUTAGE_PORT}`;

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

interface ParsedFamily {
  name: string;
  type: string;
  samples: [string, Record<string, string>, number][];
}

/** Parses scrapes with prometheus_client's text parser, all in one run of Python. */
async function parseScrapes(texts: string[]): Promise<ParsedFamily[][]> {
  const parser = Bun.spawn(
    [
      PYTHON,
      "-c",
      `import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = [[{"name": f.name, "type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]} for f in text_string_to_metric_families(text)] for text in json.load(sys.stdin)]
print(json.dumps(out))`,
    ],
    { stdin: new Blob([JSON.stringify(texts)]), stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(parser.stdout).text(), new Response(parser.stderr).text(), parser.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  return JSON.parse(out) as ParsedFamily[][];
}

/** The sum of a parsed scrape's samples named `sample`, optionally only those with `labels`. */
function total(families: ParsedFamily[], sample: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const family of families) {
    for (const [name, own, value] of family.samples) {
      if (name === sample && Object.entries(labels).every(([k, v]) => own[k] === v)) sum += value;
    }
  }
  return sum;
}

/** The same, from the raw text, for polling (the parser is the oracle for what is asserted). */
function rawTotal(text: string, sample: string): number {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${sample} `) || line.startsWith(`${sample}{`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

/** The address --serve announces on stderr (port 0: the system picks one); the rest of stderr is collected. */
async function servedUrl(child: { stderr: ReadableStream<Uint8Array> }): Promise<{ url: string; stderr: () => string }> {
  const reader = child.stderr.getReader();
  let seen = "";
  const decoder = new TextDecoder();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value);
    const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(seen)?.[1];
    if (url) {
      // Keep draining stderr so the child never blocks on a full pipe.
      void (async () => {
        for (;;) {
          const next = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (next.done) return;
          seen += decoder.decode(next.value);
        }
      })();
      return { url, stderr: () => seen };
    }
  }
  throw new Error(`--serve announced no address; stderr:\n${seen}`);
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return response.text();
}

async function healthz(url: string): Promise<{ status: number; body: { status: string; reason?: string; partitions: Record<string, string> } }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string; partitions: Record<string, string> } };
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    await Bun.sleep(300);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/**
 * One burst of `count` input records (one line each, through kcat, which we did not write): every
 * 50 lines hold one of each dead-letter reason kcat can send (invalid_json, not_an_object,
 * invalid_id), the rest are valid records.
 */
function burst(from: number, count: number): string {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    if (n % 50 === 7) return "not json";
    if (n % 50 === 19) return "[1,2]";
    if (n % 50 === 31) return JSON.stringify({ email: `u${n}@x.io` });
    return JSON.stringify({ id: n + 1, first_name: "Ada", email: `u${n}@x.io`, country: "Chile" });
  }).join("\n");
}

async function kcatProduce(broker: string, topic: string, lines: string, extra: string[] = []): Promise<number> {
  const kcat = Bun.spawn(["kcat", "-b", broker, "-P", "-t", topic, ...extra], { stdin: new Blob([`${lines}\n`]), stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => kcat.kill("SIGKILL"), 30_000);
  const code = await kcat.exited;
  clearTimeout(timer);
  return code;
}

function parquetBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".parquet")) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

function startCleaner(ws: Workspace, args: string[]) {
  return Bun.spawn([KSTREAM_BIN, "stream-clean", ...args, "--config", ws.configPath], { cwd: ws.dir, stdout: "pipe", stderr: "pipe" });
}

describe("stream-clean --serve", () => {
  test("/metrics, scraped while records arrive, parses with the Prometheus client, grows, and ends equal to the --json summary, kcat and the disk", async () => {
    const ws = createWorkspace("serve-metrics");
    workspaces.push(ws);
    // The input topic exists before the run (kcat would create it with one partition).
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const cleaner = startCleaner(ws, ["--serve", "0", "--json"]);
    const stdout = new Response(cleaner.stdout).text();
    let summary: Record<string, number> = {};
    const scrapes: string[] = [];
    const bursts = 5;
    const perBurst = 600;
    try {
      const { url } = await servedUrl(cleaner);
      await until("the partitions to be assigned and working", async () => ((await healthz(url)).status === 200 ? true : undefined), 60_000);
      for (let b = 0; b < bursts; b++) {
        expect(await kcatProduce(BROKER, ws.topics.input, burst(b * perBurst, perBurst))).toBe(0);
        await Bun.sleep(700);
        scrapes.push(await scrape(url));
        const health = await healthz(url);
        expect(health.status).toBe(200);
        expect(health.body).toEqual({ status: "ok", partitions: { 0: "working", 1: "working", 2: "working" } });
      }
      // Everything read and committed, no rows left buffered: the figures are final.
      const final = await until(
        "every record to be committed",
        async () => {
          const text = await scrape(url);
          const done =
            rawTotal(text, "kstream_clean_partition_committed_offset") === bursts * perBurst &&
            rawTotal(text, "kstream_clean_partition_position") === bursts * perBurst &&
            rawTotal(text, "kstream_clean_rows_buffered") === 0;
          return done ? text : undefined;
        },
        120_000,
      );
      scrapes.push(final);
    } finally {
      cleaner.kill("SIGTERM");
      expect(await cleaner.exited).toBe(0);
      summary = JSON.parse(await stdout) as Record<string, number>;
    }

    const parsed = await parseScrapes(scrapes);
    const last = parsed.at(-1)!;
    const types = new Map(last.map((f) => [f.name, f.type]));
    // The parser names a counter family without its _total.
    for (const name of ["records_read", "records_cleaned", "dead_lettered", "cycles_committed", "cycles_aborted", "parquet_files", "parquet_bytes"]) expect(types.get(`kstream_clean_${name}`)).toBe("counter");
    expect(types.get("kstream_clean_commit_seconds")).toBe("histogram");
    for (const name of ["kstream_clean_rows_buffered", "kstream_clean_partition_position", "kstream_clean_partition_lag", "process_resident_memory_bytes", "kstream_clean_heap_bytes"]) expect(types.get(name)).toBe("gauge");

    // The counts grow from scrape to scrape while records arrive, and never go down.
    const reads = parsed.map((families) => total(families, "kstream_clean_records_read_total"));
    for (let i = 1; i < reads.length; i++) expect(reads[i]!).toBeGreaterThanOrEqual(reads[i - 1]!);
    expect(reads[0]!).toBeLessThan(reads.at(-1)!);
    expect(reads[0]!).toBeGreaterThan(0);
    expect(total(parsed[0]!, "kstream_clean_cycles_committed_total")).toBeLessThan(total(last, "kstream_clean_cycles_committed_total"));

    // The last scrape is what the run's own summary says.
    expect(summary).toMatchObject({ read: bursts * perBurst, read_again: 0, cleaned: (bursts * perBurst * 47) / 50, dead_lettered: (bursts * perBurst * 3) / 50 });
    expect(total(last, "kstream_clean_records_read_total")).toBe(summary.read!);
    expect(total(last, "kstream_clean_records_cleaned_total")).toBe(summary.cleaned!);
    expect(total(last, "kstream_clean_dead_lettered_total")).toBe(summary.dead_lettered!);
    expect(total(last, "kstream_clean_cycles_committed_total")).toBe(summary.commits!);
    expect(total(last, "kstream_clean_parquet_files_total")).toBe(summary.files!);
    expect(total(last, "kstream_clean_commit_seconds_count")).toBe(summary.commits!);
    expect(total(last, "kstream_clean_commit_seconds_bucket", { le: "+Inf" })).toBe(summary.commits!);
    expect(total(last, "kstream_clean_commit_seconds_sum")).toBeGreaterThan(0);
    expect(total(last, "kstream_clean_cycles_aborted_total")).toBe(0);

    // Dead letters by reason are what the dead-letter topic holds; Parquet bytes are what is on disk.
    const deadLetters = await kcatConsume(ws.topics.dead_letter);
    for (const reason of ["invalid_json", "not_an_object", "invalid_id", "invalid_timestamp"]) {
      const onTopic = deadLetters.filter((m) => headerValue(m, "kstream-error") === reason).length;
      expect(`${reason} ${total(last, "kstream_clean_dead_lettered_total", { reason })}`).toBe(`${reason} ${onTopic}`);
    }
    expect(total(last, "kstream_clean_parquet_bytes_total")).toBe(parquetBytes(ws.path("out/parquet")));

    // Positions are the partitions' ends; nothing lags, nothing is buffered; memory is reported.
    expect(last.find((f) => f.name === "kstream_clean_partition_position")!.samples.map(([, labels]) => labels.partition)).toEqual(["0", "1", "2"]);
    expect(total(last, "kstream_clean_partition_lag")).toBe(0);
    expect(total(last, "kstream_clean_rows_buffered")).toBe(0);
    expect(total(last, "process_resident_memory_bytes")).toBeGreaterThan(20 * 1024 * 1024);
    expect(total(last, "kstream_clean_heap_bytes")).toBeGreaterThan(1024 * 1024);
  });

  test("a port already taken is refused with one line and exit 2, before anything connects", async () => {
    const ws = createWorkspace("serve-taken");
    workspaces.push(ws);
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    const port = taken.port;
    let result: RunResult;
    try {
      result = await ws.run(["stream-clean", "--serve", String(port)], { timeoutMs: 30_000 });
    } finally {
      await taken.stop(true);
    }
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`--serve ${port} --host 127.0.0.1: cannot listen there: the port is already in use`);
  });
});

describe("stream-clean --serve through a broker outage", () => {
  let startedHere = false;
  const kafkaSh = async (...args: string[]) => {
    const child = Bun.spawn(["bash", join(REPO, "scripts/kafka.sh"), ...args], { env: { ...process.env, KAFKA_PORT: String(OUTAGE_PORT) }, stdout: "pipe", stderr: "pipe" });
    const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    if (exitCode !== 0) throw new Error(`KAFKA_PORT=${OUTAGE_PORT} scripts/kafka.sh ${args.join(" ")} failed (${exitCode}):\n${stderr}`);
  };

  beforeAll(async () => {
    const status = Bun.spawnSync(["bash", join(REPO, "scripts/kafka.sh"), "status"], { env: { ...process.env, KAFKA_PORT: String(OUTAGE_PORT) } });
    startedHere = status.exitCode !== 0;
    if (startedHere) await kafkaSh("up");
  }, 300_000);

  afterAll(async () => {
    if (startedHere) await kafkaSh("down");
  }, 120_000);

  test("/healthz is 200 while the cycles work, 503 with the reason while the broker is away, and 200 again once it is back", async () => {
    const ws = createWorkspace("serve-outage");
    workspaces.push(ws);
    // This broker only: the outage must not touch anyone else's; retry_limit outlasts the outage.
    const config = readFileSync(ws.configPath, "utf8").replace(`brokers = ["${BROKER}"]`, `brokers = ["${OUTAGE_BROKER}"]\nretry_limit = "3 minutes"`);
    writeFileSync(ws.configPath, config);
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const cleaner = startCleaner(ws, ["--serve", "0"]);
    let feeding = true;
    let sent = 0;
    // Records keep arriving, so cycles are open when the broker goes away.
    const feeder = (async () => {
      while (feeding) {
        await kcatProduce(OUTAGE_BROKER, ws.topics.input, burst(sent, 30), ["-X", "message.timeout.ms=5000"]);
        sent += 30;
        await Bun.sleep(300);
      }
    })();
    let stderr = () => "";
    const seen: string[] = [];
    const startedAt = Date.now();
    const watch = async (url: string) => {
      const health = await healthz(url);
      const line = `${health.status} ${health.body.reason ?? ""}`;
      if (seen.at(-1)?.endsWith(line) !== true) seen.push(`${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${line}`);
      return health;
    };
    let failure: unknown;
    try {
      const served = await servedUrl(cleaner);
      stderr = served.stderr;
      const { url } = served;
      await until("the run to be healthy and reading", async () => {
        const health = await watch(url);
        return health.status === 200 && rawTotal(await scrape(url), "kstream_clean_cycles_committed_total") > 0 ? true : undefined;
      }, 90_000);

      await kafkaSh("down");
      seen.push(`${((Date.now() - startedAt) / 1000).toFixed(1)} s: broker down`);
      const unhealthy = await until("/healthz to say 503", async () => {
        const health = await watch(url);
        return health.status === 503 ? health : undefined;
      }, 90_000);
      expect(unhealthy.body.status).toBe("unavailable");
      expect(unhealthy.body.reason).toMatch(/no fetch answered|partition \d|rejoining the consumer group/);
      expect(unhealthy.body.reason).not.toContain("\n");
      // The server answers from memory: a scrape does not wait for the absent broker.
      expect(rawTotal(await scrape(url), "kstream_clean_records_read_total")).toBeGreaterThan(0);

      feeding = false;
      await feeder;
      await kafkaSh("up");
      seen.push(`${((Date.now() - startedAt) / 1000).toFixed(1)} s: broker up`);
      const healthy = await until("/healthz to say 200 again", async () => {
        const health = await watch(url);
        return health.status === 200 ? health : undefined;
      }, 150_000);
      expect(healthy.body).toEqual({ status: "ok", partitions: { 0: "working", 1: "working", 2: "working" } });
    } catch (error) {
      failure = error;
    } finally {
      feeding = false;
      await feeder;
      cleaner.kill("SIGTERM");
    }
    const forced = setTimeout(() => cleaner.kill("SIGKILL"), 60_000);
    const exitCode = await cleaner.exited;
    clearTimeout(forced);
    await Bun.sleep(100);
    if (failure !== undefined || exitCode !== 0) {
      throw new Error(`${(failure as Error | undefined)?.message ?? `stream-clean exited ${exitCode} after SIGTERM`}\n/healthz:\n${seen.join("\n")}\nstream-clean stderr:\n${stderr()}`);
    }
  });
});
