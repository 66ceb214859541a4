/**
 * kstream compact against real stream-clean output: a day of small files (moved to an old
 * ingest_date folder; today's folder keeps the rest), merged per partition with every row and
 * column kept (DuckDB compares before and after), recon exact afterwards, kill -9 at each step of
 * a swap followed by a rerun, two compacts at once, and today's folder untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { createWorkspace, type Workspace } from "./harness.ts";

const OLD = "ingest_date=2020-01-01";
const RECORDS = 3000;
let ws: Workspace;
let today: string;
let pristine: string;
const parquet = () => ws.path("out", "parquet");

/** Every row with every column and its folder, as sorted text: the multiset DuckDB sees. */
async function allRows(): Promise<string[]> {
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT id, first_name, last_name, email, gender, ip_addr, date, country, epoch_ms(timestamp) AS ts, source_partition, source_offset, ingest_date::VARCHAR AS ingest_date
       FROM read_parquet('${parquet()}/**/*.parquet', hive_partitioning = true)`,
    );
    return reader.getRowsJS().map((row) => JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).sort();
  } finally {
    connection.closeSync();
  }
}

async function duplicatedOffsets(): Promise<number> {
  const rows = await allRows();
  const seen = new Set<string>();
  let twice = 0;
  for (const row of rows) {
    const values = JSON.parse(row) as unknown[];
    const key = `${values[9]}:${values[10]}`;
    if (seen.has(key)) twice++;
    seen.add(key);
  }
  return twice;
}

const listing = (folder: string) => readdirSync(join(parquet(), folder)).sort();
const restore = () => {
  rmSync(parquet(), { recursive: true, force: true });
  cpSync(pristine, parquet(), { recursive: true });
};

beforeAll(async () => {
  ws = createWorkspace("compact", '[compact]\nmin_age = "1 day"\n');
  const toml = await Bun.file(ws.configPath).text();
  writeFileSync(ws.configPath, toml.replace("[clean]\n", "[clean]\nfile_max_rows = 100\n"));
  const random = createRandom(RECORDS);
  writeFileSync(ws.path("in.ndjson"), `${Array.from({ length: RECORDS }, (_, i) => JSON.stringify(makeRecord(i + 1, random))).join("\n")}\n`);
  expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
  expect((await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 170_000 })).exitCode).toBe(0);
  today = readdirSync(parquet()).find((name) => name.startsWith("ingest_date="))!;
  // A past day of small files: the files holding offsets below 700 move to an old folder.
  mkdirSync(join(parquet(), OLD));
  for (const name of listing(today!)) {
    const first = Number(name.split("+")[2]);
    if (name.endsWith(".parquet") && first < 700) renameSync(join(parquet(), today!, name), join(parquet(), OLD, name));
  }
  pristine = ws.path("pristine");
  cpSync(parquet(), pristine, { recursive: true });
}, 180_000);

afterAll(() => rmSync(ws.dir, { recursive: true, force: true }));

describe("kstream compact", () => {
  let expectedListing: string[];

  test("merges an old folder's small files per partition, keeps every row and column, leaves today's folder as it was; recon 0", async () => {
    const before = await allRows();
    const oldBefore = listing(OLD);
    const todayBefore = listing(today).map((name) => `${name}:${statSync(join(parquet(), today, name)).mtimeMs}`);
    expect(oldBefore.length).toBeGreaterThan(6);
    const result = await ws.run(["compact", "--json"]);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ folders: 1, files_before: oldBefore.length, merged_files: 3, files_after: 3 });
    expectedListing = listing(OLD);
    expect(expectedListing.every((name) => name.endsWith("+compacted.parquet"))).toBe(true);
    expect(expectedListing).toHaveLength(3);
    expect(listing(today).map((name) => `${name}:${statSync(join(parquet(), today, name)).mtimeMs}`)).toEqual(todayBefore);
    expect(await allRows()).toEqual(before);
    expect((await ws.run(["recon"])).exitCode).toBe(0);
    // stream-clean's start-up recovery keeps merged files: they lie wholly below the committed offset.
    expect((await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 100_000 })).exitCode).toBe(0);
    expect(listing(OLD)).toEqual(expectedListing);
    // A second run finds nothing to do.
    expect(JSON.parse((await ws.run(["compact", "--json"])).stdout)).toMatchObject({ merged_files: 0, files_after: 3 });
  }, 120_000);

  test.each(["compact-intent", "compact-merged", "compact-deleting", "compact-cleared"])(
    "kill -9 at %s: recon stays 0 before the rerun, the rerun finishes, each offset once",
    async (point) => {
      restore();
      const before = await allRows();
      const killed = await ws.run(["compact"], { env: { KSTREAM_FAULT: `${point}:1` } });
      expect(killed.exitCode).not.toBe(0);
      // What a lister sees now: originals, or merged, or both with the manifest naming the originals.
      const recon = await ws.run(["recon"]);
      expect(recon.exitCode).toBe(0);
      const rerun = await ws.run(["compact"]);
      expect(rerun.exitCode).toBe(0);
      expect(listing(OLD)).toEqual(expectedListing);
      expect(await allRows()).toEqual(before);
      expect(await duplicatedOffsets()).toBe(0);
      expect((await ws.run(["recon"])).exitCode).toBe(0);
    },
    120_000,
  );

  test("two compacts started together leave what one leaves", async () => {
    restore();
    const before = await allRows();
    const [a, b] = await Promise.all([ws.run(["compact"]), ws.run(["compact"])]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(listing(OLD)).toEqual(expectedListing);
    expect(await allRows()).toEqual(before);
    expect((await ws.run(["recon"])).exitCode).toBe(0);
  }, 120_000);
});
