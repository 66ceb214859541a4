/**
 * kstream compact on S3 (clean.parquet_dir = "s3://…", versitygw of scripts/s3.sh): a closed day of
 * small files in the bucket, merged per partition; DuckDB over S3 (httpfs) then sees every offset
 * exactly once and no fewer rows, recon --topic reads the merged files, and a kill -9 between the
 * merged file's PUT and the originals' deletes is finished by a rerun.
 */
import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { BROKER, createWorkspace, type Workspace } from "./harness.ts";
import { duckdbAvailable, listParquetUrls, readS3Lineage, s3Environment, s3Toml, S3_BUCKET, s3ServerBuilt, useS3Server } from "./s3-server.ts";

const RECORDS = 1200;
const DAY_MS = 24 * 3600 * 1000;
const workspaces: Workspace[] = [];

useS3Server(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

const run = (ws: Workspace, args: string[], env: Record<string, string> = {}) => ws.run(args, { env: { ...s3Environment(), ...env }, timeoutMs: 170_000 });

/** A bucket prefix holding one closed day (three days ago) of 100-row files, all committed. */
async function closedDayInBucket(label: string): Promise<{ ws: Workspace; url: string }> {
  const url = `s3://${S3_BUCKET}/it-${label}-${process.pid}-${Date.now().toString(36)}`;
  const ws = createWorkspace(label, `${s3Toml()}\n[compact]\nmin_age = "1 day"\n`);
  workspaces.push(ws);
  const toml = await Bun.file(ws.configPath).text();
  writeFileSync(ws.configPath, toml.replace('parquet_dir = "out/parquet"\n', `parquet_dir = "${url}"\nfile_max_rows = 100\n`));
  // Kafka timestamps three days old put every row in one closed ingest_date folder.
  const kafka = new Kafka({ brokers: [BROKER], clientId: "kstream-it-compact-s3", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: ws.topics.input, numPartitions: 3 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const random = createRandom(RECORDS);
  const timestamp = String(Date.now() - 3 * DAY_MS);
  const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: String(i + 1), value: JSON.stringify(makeRecord(i + 1, random)), timestamp }));
  await producer.send({ topic: ws.topics.input, messages });
  await producer.disconnect();
  expect((await run(ws, ["stream-clean", "--until-caught-up"])).exitCode).toBe(0);
  return { ws, url };
}

/** Offsets DuckDB reads over S3 more than once, and how many rows it reads. */
async function lineageSummary(url: string) {
  const lineage = await readS3Lineage(url);
  const seen = new Set<string>();
  let twice = 0;
  for (const { source_partition, source_offset } of lineage) {
    const key = `${source_partition}:${source_offset}`;
    if (seen.has(key)) twice++;
    seen.add(key);
  }
  return { rows: lineage.length, distinct: seen.size, twice };
}

describe.skipIf(!duckdbAvailable() || !s3ServerBuilt())("kstream compact on S3", () => {
  test("merges a closed day's small objects per partition; DuckDB over S3 sees every offset once, recon --topic 0", async () => {
    const { ws, url } = await closedDayInBucket("compact-s3");
    const before = await lineageSummary(url);
    const filesBefore = (await listParquetUrls(url)).length;
    expect(before.twice).toBe(0);
    expect(filesBefore).toBeGreaterThan(6);

    const compact = await run(ws, ["compact", "--json"]);
    expect(compact.exitCode).toBe(0);
    expect(JSON.parse(compact.stdout)).toMatchObject({ files_before: filesBefore, files_after: 3, dry_run: false });

    const urls = await listParquetUrls(url);
    expect(urls.length).toBe(3);
    expect(urls.every((u) => u.endsWith("+compacted.parquet"))).toBe(true);
    expect(await lineageSummary(url)).toEqual(before);
    const recon = await run(ws, ["recon", "--topic", "--json"]);
    expect(recon.exitCode).toBe(0);
    expect(JSON.parse(recon.stdout)).toMatchObject({ verdict: "ok", missing: 0, duplicated: 0 });
  }, 400_000);

  test("kill -9 after the merged object is put and before the originals go: a rerun finishes, nothing counted twice", async () => {
    const { ws, url } = await closedDayInBucket("compact-s3-kill");
    const before = await lineageSummary(url);
    const killed = await run(ws, ["compact"], { KSTREAM_FAULT: "compact-merged:1" });
    expect(killed.exitCode).not.toBe(0);
    // Both the merged object and its originals are in the bucket now; recon counts the visible data.
    const mid = await run(ws, ["recon", "--topic", "--json"]);
    expect(mid.exitCode).toBe(0);
    expect((await run(ws, ["compact"])).exitCode).toBe(0);
    expect(await lineageSummary(url)).toEqual(before);
    expect((await listParquetUrls(url)).every((u) => u.endsWith("+compacted.parquet"))).toBe(true);
    expect((await run(ws, ["recon", "--topic"])).exitCode).toBe(0);
  }, 400_000);
});
