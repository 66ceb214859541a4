import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { createWorkspace, headerValue, kcatConsume, KSTREAM_BIN, parseJsonOutput, type Workspace } from "./harness.ts";
import { checkExactlyOnce, expectedOutcome, inputByPosition, readParquetRows } from "./pipeline.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

function workspace(label: string, extra = ""): Workspace {
  const ws = createWorkspace(label, extra);
  workspaces.push(ws);
  return ws;
}

function writeDirtyInput(ws: Workspace, records: number, seed: number): string {
  const random = createRandom(seed);
  const lines = Array.from({ length: records }, (_, i) => JSON.stringify(makeRecord(i + 1, random)));
  lines.push('{"id": 1.0, "email": "Exact@Literal.io"}', '{"id": "  77 ", "country": "côte   d\'ivoire"}', "[1,2]", '{"id": 1152921504606846977}');
  const path = ws.path("input.ndjson");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

interface CleanSummary {
  read: number;
  read_again: number;
  cleaned: number;
  dead_lettered: number;
  files: number;
  stopped_by: string;
}

const EMPTY_REPORT_ISSUES = { lost: [], duplicatedInParquet: [], duplicatedInStaging: [], duplicatedInDeadLetters: [], stagingWithoutRow: [], rowWithoutStaging: [] };

describe("stream-clean against a real broker", () => {
  test("every input record becomes the row the rules say (checked through DuckDB), one staging message each, the rest dead letters with headers", async () => {
    const ws = workspace("rules");
    expect((await ws.run(["produce", writeDirtyInput(ws, 3000, 11)])).exitCode).toBe(0);
    const result = await ws.run(["stream-clean", "--until-caught-up", "--json"]);
    expect(result.exitCode).toBe(0);
    const summary = parseJsonOutput<CleanSummary>(result);
    expect(summary.stopped_by).toBe("caught-up");
    expect(summary.read).toBe(3004);
    expect(summary.read_again).toBe(0);

    const input = inputByPosition(await kcatConsume(ws.topics.input));
    const rows = await readParquetRows(ws.path("out", "parquet"));
    expect(rows.length).toBe(summary.cleaned);
    for (const row of rows) {
      const source = input.get(`${row.source_partition}:${row.source_offset}`)!;
      expect(source).toBeDefined();
      const expected = expectedOutcome(source.payload!);
      expect(expected.kind).toBe("row");
      const { timestamp_ms, source_partition, source_offset, ingest_date, ...columns } = row;
      expect(columns).toEqual((expected as { row: typeof columns }).row);
      expect(timestamp_ms).toBe(source.ts);
      expect(ingest_date).toBe(new Date(source.ts).toISOString().slice(0, 10));
    }

    const deadLetters = await kcatConsume(ws.topics.dead_letter, { isolation: "read_committed" });
    expect(deadLetters.length).toBe(summary.dead_lettered);
    expect(rows.length + deadLetters.length).toBe(input.size);
    for (const letter of deadLetters) {
      const source = input.get(`${headerValue(letter, "kstream-source-partition")}:${headerValue(letter, "kstream-source-offset")}`)!;
      expect(letter.payload).toBe(source.payload);
      expect(letter.key).toBe(source.key);
      expect(headerValue(letter, "kstream-source-topic")).toBe(ws.topics.input);
      expect(headerValue(letter, "kstream-error")).toBe((expectedOutcome(source.payload!) as { reason: string }).reason);
      expect(headerValue(letter, "kstream-error-message")?.length).toBeGreaterThan(0);
    }

    const staging = await kcatConsume(ws.topics.staging, { isolation: "read_committed" });
    expect(staging.length).toBe(rows.length);
    const rowsByPosition = new Map(rows.map((row) => [`${row.source_partition}:${row.source_offset}`, row]));
    for (const message of staging) {
      const row = rowsByPosition.get(`${headerValue(message, "kstream-source-partition")}:${headerValue(message, "kstream-source-offset")}`)!;
      const start = Math.floor(row.timestamp_ms / 300_000) * 300_000;
      expect(message.key).toBe(new Date(start).toISOString());
      expect(JSON.parse(message.payload!)).toEqual({
        time_window: { start: new Date(start).toISOString(), end: new Date(start + 300_000).toISOString() },
        country: row.country,
        users: row.email,
      });
    }
  });

  test("cleaning in a worker thread or in the main thread gives the same rows, staging messages and dead letters", async () => {
    const source = workspace("workers-input");
    expect((await source.run(["produce", writeDirtyInput(source, 6_000, 21)])).exitCode).toBe(0);
    const outputs = [];
    for (const workers of [0, 1]) {
      // The same input topic, cleaned by a group of its own into its own staging, dead-letter topics and folder.
      const ws = workspace(`workers-${workers}`);
      const toml = (await Bun.file(ws.configPath).text()).replace(`input = "${ws.topics.input}"`, `input = "${source.topics.input}"`);
      // Small files and a small budget: cuts inside chunks, and early ends in the background.
      writeFileSync(ws.configPath, toml.replace("[clean]\n", `[clean]\nworkers = ${workers}\nfile_max_rows = 1700\nmax_buffered_rows = 2500\n`));
      const result = await ws.run(["stream-clean", "--until-caught-up"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const messages = async (topic: string) =>
        (await kcatConsume(topic)).map(({ partition, key, payload, headers }) => JSON.stringify([partition, key, payload, headers])).sort();
      const rows = (await readParquetRows(ws.path("out", "parquet"))).map((row) => JSON.stringify(row, (_, value) => (typeof value === "bigint" ? value.toString() : value))).sort();
      outputs.push({ rows, staging: await messages(ws.topics.staging), deadLetters: await messages(ws.topics.dead_letter) });
    }
    expect(outputs[0]!.rows.length).toBeGreaterThan(5_000);
    expect(outputs[0]!.deadLetters.length).toBeGreaterThan(0);
    expect(outputs[1]).toEqual(outputs[0]!);
  });

  test("a second run with nothing new reads nothing and writes nothing", async () => {
    const ws = workspace("rerun");
    await ws.run(["produce", writeDirtyInput(ws, 200, 3)]);
    expect((await ws.run(["stream-clean", "--until-caught-up"])).exitCode).toBe(0);
    const again = parseJsonOutput<CleanSummary>(await ws.run(["stream-clean", "--until-caught-up", "--json"]));
    expect(again).toMatchObject({ read: 0, files: 0, stopped_by: "caught-up" });
    expect(await checkExactlyOnce(ws.topics, ws.path("out", "parquet"))).toMatchObject(EMPTY_REPORT_ISSUES);
  });

  test("files are rolled by row count", async () => {
    const ws = workspace("roll", "");
    await ws.run(["produce", writeDirtyInput(ws, 1000, 5)]);
    const summary = parseJsonOutput<CleanSummary>(await ws.run(["stream-clean", "--until-caught-up", "--json", "--file-max-rows", "100"]));
    expect(summary.files).toBeGreaterThanOrEqual(10);
    const rows = await readParquetRows(ws.path("out", "parquet"));
    const perFile = new Map<string, number>();
    for (const row of rows) perFile.set(`${row.source_partition}`, (perFile.get(`${row.source_partition}`) ?? 0) + 1);
    expect(rows.length).toBe(summary.cleaned);
    const glob = new Bun.Glob("**/*.parquet");
    for await (const file of glob.scan(ws.path("out", "parquet"))) {
      const count = (await readParquetRows(ws.path("out", "parquet"))).length; // whole set still consistent
      expect(count).toBe(summary.cleaned);
      expect(file).toMatch(/^ingest_date=\d{4}-\d{2}-\d{2}\/it_in_.+\+\d+\+\d{20}\+\d{20}\.parquet$/);
    }
  });

  test("files are rolled by age even when no new record arrives", async () => {
    const ws = workspace("age");
    await ws.run(["produce", writeDirtyInput(ws, 50, 9)]);
    const child = Bun.spawn([KSTREAM_BIN, "stream-clean", "--config", ws.configPath, "--file-max-age", "1s"], { stdout: "ignore", stderr: "pipe" });
    let rows = 0;
    for (let waited = 0; waited < 20_000 && rows === 0; waited += 500) {
      await Bun.sleep(500);
      rows = (await readParquetRows(ws.path("out", "parquet"))).length;
    }
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    expect(rows).toBeGreaterThan(0);
  });

  test("SIGTERM flushes, commits and leaves: exit 0 and nothing lost", async () => {
    const ws = workspace("sigterm");
    await ws.run(["produce", writeDirtyInput(ws, 2000, 21)]);
    const child = Bun.spawn([KSTREAM_BIN, "stream-clean", "--config", ws.configPath, "--file-max-age", "10 minutes"], { stdout: "ignore", stderr: "pipe" });
    await Bun.sleep(4000);
    child.kill("SIGTERM");
    const exitCode = await child.exited;
    expect({ exitCode, stderr: await new Response(child.stderr).text() }).toMatchObject({ exitCode: 0 });
    const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
    expect(report).toMatchObject(EMPTY_REPORT_ISSUES);
    expect(report.parquetRows + report.deadLetters).toBe(report.input);
  });
});
