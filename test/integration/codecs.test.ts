/**
 * Compression on the real broker. In: batches written by tools we did not write — kcat
 * (librdkafka: raw snappy, LZ4 frames, zstd, gzip) and the Apache Kafka Java client itself
 * (xerial snappy) — in topics of one codec and in a topic that mixes them with uncompressed
 * batches, are cleaned exactly. Out: what kstream writes with each codec is read back by kcat,
 * byte for byte, and carries that codec on the broker. Parquet: every codec reads back in DuckDB
 * and pyarrow. And kill -9 twice during a run over a compressed topic loses and duplicates nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { installCodecs } from "../../src/kafka/codecs.ts";
import { BROKER, createWorkspace, headerValue, kcatConsume, KSTREAM_BIN, parseJsonOutput, type Workspace } from "./harness.ts";
import { checkExactlyOnce, expectedOutcome, inputByPosition, readParquetRows } from "./pipeline.ts";

const REPO = resolve(import.meta.dir, "../..");
const PYTHON = join(process.env.KSTREAM_KAFKA_CACHE ?? join(REPO, ".cache"), "python", "bin", "python");
const KAFKA_CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;
type Codec = (typeof KAFKA_CODECS)[number] | "none";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

function workspace(label: string, extraToml = ""): Workspace {
  const ws = createWorkspace(label);
  workspaces.push(ws);
  if (extraToml) {
    const toml = readFileSync(ws.configPath, "utf8");
    writeFileSync(ws.configPath, toml.replace("[clean]\n", `[clean]\n${extraToml}\n`));
  }
  return ws;
}

/**
 * Valid records and, every tenth line, one that must become a dead letter with its bytes unchanged:
 * not JSON at all, or (for `kstream produce`, which publishes only JSON) JSON with an id that is none.
 */
function inputLines(count: number, seed: number, form: "raw" | "json" = "raw"): string[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, i) =>
    i % 10 !== 9
      ? JSON.stringify(makeRecord(i + 1, random))
      : form === "raw"
        ? `not json #${i} ✓ 日本 \u0001 {"id":`
        : JSON.stringify({ id: `bad id #${i}`, note: "✓ 日本 \u0001" }),
  );
}

const isDeadLetter = (line: string) => line.startsWith("not json") || line.startsWith('{"id":"bad id');

async function createTopic(topic: string, partitions = 3): Promise<void> {
  const admin = new Kafka({ clientId: "kstream-it-codecs", brokers: [BROKER], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function run(command: string[], stdin: string): Promise<void> {
  const child = Bun.spawn(command, { stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) throw new Error(`${command.join(" ")} failed (${exitCode}): ${stderr}`);
}

/** librdkafka's producer (kcat -z): batches of up to 10 000 messages with the codec. */
const kcatProduce = (topic: string, lines: string[], codec: Codec) =>
  run(["kcat", "-b", BROKER, "-P", "-t", topic, "-z", codec, "-X", "linger.ms=20"], `${lines.join("\n")}\n`);

function kafkaLibs(): string {
  const root = join(process.env.KSTREAM_KAFKA_CACHE ?? join(REPO, ".cache"), "kafka");
  const version = readdirSync(root).find((name) => existsSync(join(root, name, "libs")));
  if (!version) throw new Error(`no Kafka jars under ${root}: run scripts/kafka.sh fetch`);
  return join(root, version, "libs");
}

/** The Apache Kafka Java client, one consecutive chunk of lines per codec. */
const javaProduce = (topic: string, lines: string[], codecs: Codec[]) =>
  run(["java", "-cp", `${kafkaLibs()}/*`, join(import.meta.dir, "java", "ProduceLines.java"), BROKER, topic, codecs.join(",")], `${lines.join("\n")}\n`);

function parquetFiles(ws: Workspace): number {
  const root = ws.path("out", "parquet");
  if (!existsSync(root)) return 0;
  return readdirSync(root, { recursive: true }).filter((name) => String(name).endsWith(".parquet")).length;
}

const sorted = (values: Array<string | null>) => [...values].map(String).sort();

/**
 * The codecs the topic's compressed batches carry, from each batch's attributes: a throw-away
 * consumer notes which codec kafkajs looks up per batch (only the attribute is used here; the
 * content is checked through kcat). Uncompressed batches look nothing up.
 */
async function batchCodecs(topic: string, expectedMessages: number): Promise<Set<string>> {
  installCodecs();
  const table = CompressionCodecs as Record<number, () => unknown>;
  const names: Record<number, string> = { [CompressionTypes.GZIP]: "gzip", [CompressionTypes.Snappy]: "snappy", [CompressionTypes.LZ4]: "lz4", [CompressionTypes.ZSTD]: "zstd" };
  const originals = { ...table };
  const seen = new Set<string>();
  for (const type of Object.keys(names).map(Number)) table[type] = () => (seen.add(names[type]!), originals[type]!());
  const kafka = new Kafka({ clientId: "kstream-it-codecs", brokers: [BROKER], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `it-codecs-${topic}-${Date.now()}` });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let received = 0;
    await new Promise<void>((done, fail) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            received += batch.messages.length;
            if (received >= expectedMessages) done();
          },
        })
        .catch(fail);
      setTimeout(() => fail(new Error(`read ${received} of ${expectedMessages} messages of ${topic}`)), 60_000);
    });
  } finally {
    await consumer.disconnect();
    Object.assign(table, originals);
  }
  return seen;
}

interface CleanSummary {
  read: number;
  cleaned: number;
  dead_lettered: number;
}

/** Rows as the rules say for the payloads kcat reads, dead letters byte-equal to the input lines that are not JSON. */
async function expectCleanedExactly(ws: Workspace, lines: string[]): Promise<void> {
  const result = await ws.run(["stream-clean", "--until-caught-up", "--json"], { timeoutMs: 150_000 });
  expect(result.stderr).not.toContain("not implemented");
  expect(result.exitCode).toBe(0);
  const summary = parseJsonOutput<CleanSummary>(result);
  expect(summary.read).toBe(lines.length);

  const inputMessages = await kcatConsume(ws.topics.input);
  // The decoded bytes equal what was written: kcat's view of the topic is the lines we sent.
  expect(sorted(inputMessages.map((m) => m.payload))).toEqual(sorted(lines));
  const input = inputByPosition(inputMessages);
  const rows = await readParquetRows(ws.path("out", "parquet"));
  const deadLetters = await kcatConsume(ws.topics.dead_letter);
  expect(rows.length + deadLetters.length).toBe(lines.length);
  for (const row of rows) {
    const source = input.get(`${row.source_partition}:${row.source_offset}`)!;
    const expected = expectedOutcome(source.payload!);
    expect(expected.kind).toBe("row");
    const { timestamp_ms, source_partition, source_offset, ingest_date, ...columns } = row;
    expect(columns).toEqual((expected as { row: typeof columns }).row);
  }
  expect(sorted(deadLetters.map((m) => m.payload))).toEqual(sorted(lines.filter(isDeadLetter)));
  for (const letter of deadLetters) {
    expect(input.get(`${headerValue(letter, "kstream-source-partition")}:${headerValue(letter, "kstream-source-offset")}`)?.payload).toBe(letter.payload);
  }
  const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
  expect({ lost: report.lost, duplicated: report.duplicatedInParquet, staging: report.duplicatedInStaging }).toEqual({ lost: [], duplicated: [], staging: [] });
}

describe("every codec in", () => {
  test.each(KAFKA_CODECS)("a topic of %s batches written by kcat is cleaned exactly", async (codec) => {
    const ws = workspace(`in-${codec}`);
    const lines = inputLines(1500, 40);
    await createTopic(ws.topics.input);
    await kcatProduce(ws.topics.input, lines, codec);
    expect(await batchCodecs(ws.topics.input, lines.length)).toEqual(new Set([codec]));
    await expectCleanedExactly(ws, lines);
  });

  test("a topic mixing uncompressed batches with every codec, from kcat and from the Java client (xerial snappy), is cleaned exactly", async () => {
    const ws = workspace("in-mixed");
    const lines = inputLines(4000, 41);
    await createTopic(ws.topics.input);
    const chunks = Array.from({ length: 8 }, (_, i) => lines.slice(i * 500, (i + 1) * 500));
    await kcatProduce(ws.topics.input, chunks[0]!, "none");
    await kcatProduce(ws.topics.input, chunks[1]!, "snappy");
    await javaProduce(ws.topics.input, chunks.slice(2, 6).flat(), ["snappy", "lz4", "zstd", "gzip"]);
    await kcatProduce(ws.topics.input, chunks[6]!, "lz4");
    await kcatProduce(ws.topics.input, chunks[7]!, "zstd");
    expect(await batchCodecs(ws.topics.input, lines.length)).toEqual(new Set(["snappy", "lz4", "zstd", "gzip"]));
    await expectCleanedExactly(ws, lines);
  });
});

describe("every codec out", () => {
  test.each([...KAFKA_CODECS, "none"] as const)("with %s, kcat reads back exactly what produce and stream-clean wrote", async (codec) => {
    const ws = workspace(`out-${codec}`, `send_compression = "${codec}"`);
    const toml = readFileSync(ws.configPath, "utf8");
    writeFileSync(ws.configPath, `${toml}\n[produce]\ncompression = "${codec}"\n`);
    const lines = inputLines(2000, 42, "json");
    writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
    const produced = await ws.run(["produce", ws.path("in.ndjson")]);
    expect(produced.exitCode).toBe(0);
    const expected = codec === "none" ? new Set<string>() : new Set([codec]);
    expect(await batchCodecs(ws.topics.input, lines.length)).toEqual(expected);
    await expectCleanedExactly(ws, lines);
    const staged = await kcatConsume(ws.topics.staging);
    expect(staged.length).toBe(lines.filter((line) => !isDeadLetter(line)).length);
    for (const message of staged) expect(Object.keys(JSON.parse(message.payload!))).toEqual(["time_window", "country", "users"]);
    expect(await batchCodecs(ws.topics.staging, staged.length)).toEqual(expected);
    expect(await batchCodecs(ws.topics.dead_letter, lines.length - staged.length)).toEqual(expected);
  });
});

describe("every Parquet codec", () => {
  test.each([
    ["snappy", ""],
    ["zstd", "compression_level = 9"],
    ["gzip", ""],
    ["lz4_raw", ""],
    ["uncompressed", ""],
  ])("files written with %s read back the same in DuckDB and in pyarrow", async (codec, level) => {
    const ws = workspace(`parquet-${codec}`, `compression = "${codec}"\n${level}`);
    const lines = inputLines(1200, 43);
    await createTopic(ws.topics.input);
    await kcatProduce(ws.topics.input, lines, "lz4");
    await expectCleanedExactly(ws, lines);
    const duck = await readParquetRows(ws.path("out", "parquet"));
    const script = [
      "import sys, glob, json, pyarrow.parquet as pq",
      "files = sorted(glob.glob(sys.argv[1] + '/**/*.parquet', recursive=True))",
      "codecs = {pq.ParquetFile(f).metadata.row_group(0).column(c).compression for f in files for c in range(11)}",
      "t = pq.ParquetDataset(files).read()",
      "rows = sorted(zip(t.column('source_partition').to_pylist(), t.column('source_offset').to_pylist(), t.column('email').to_pylist(), t.column('country').to_pylist()))",
      "print(json.dumps({'codecs': sorted(codecs), 'rows': rows}))",
    ].join("\n");
    const child = Bun.spawn([PYTHON, "-c", script, ws.path("out", "parquet")], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const arrow = JSON.parse(stdout) as { codecs: string[]; rows: Array<[number, number, string, string | null]> };
    // pyarrow names Parquet's LZ4_RAW "LZ4" (its Hadoop-framed predecessor would be LZ4_HADOOP).
    expect(arrow.codecs).toEqual([codec === "lz4_raw" ? "LZ4" : codec.toUpperCase()]);
    const fromDuck = duck.map((r) => [r.source_partition, r.source_offset, r.email, r.country]).sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
    expect(arrow.rows).toEqual(fromDuck as typeof arrow.rows);
  });
});

describe("exactly once over a compressed topic", () => {
  test("kill -9 of stream-clean twice during a run over a topic of snappy, lz4 and zstd batches: nothing lost, nothing duplicated", async () => {
    const ws = workspace("kills", 'file_max_rows = 250\nsession_timeout = "6s"\nsend_compression = "zstd"');
    const lines = inputLines(12_000, 44);
    await createTopic(ws.topics.input);
    await kcatProduce(ws.topics.input, lines.slice(0, 4000), "snappy");
    await kcatProduce(ws.topics.input, lines.slice(4000, 8000), "lz4");
    await kcatProduce(ws.topics.input, lines.slice(8000), "zstd");
    // Each kill lands once the run has committed more files than before it: mid-stream, not at start-up.
    for (const files of [2, 8]) {
      const child = Bun.spawn([KSTREAM_BIN, "stream-clean", "--until-caught-up", "--config", ws.configPath], { cwd: ws.dir, stdout: "ignore", stderr: "ignore" });
      for (let waited = 0; parquetFiles(ws) < files && waited < 60_000; waited += 50) await Bun.sleep(50);
      await Bun.sleep(Math.floor(createRandom(files)() * 300));
      child.kill("SIGKILL");
      await child.exited;
      expect(child.signalCode).toBe("SIGKILL");
    }
    const last = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 150_000 });
    expect(last.exitCode).toBe(0);
    const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
    expect({ lost: report.lost.slice(0, 5), dupParquet: report.duplicatedInParquet.slice(0, 5), dupStaging: report.duplicatedInStaging.slice(0, 5) }).toEqual({
      lost: [],
      dupParquet: [],
      dupStaging: [],
    });
    expect(report).toMatchObject({ duplicatedInDeadLetters: [], stagingWithoutRow: [], rowWithoutStaging: [] });
    expect(report.input).toBe(lines.length);
    expect(report.parquetRows + report.deadLetters).toBe(lines.length);
    expect(report.staging).toBe(report.parquetRows);
  });
});
