/**
 * stream-clean and recon with clean.parquet_dir = "s3://kstream/<prefix>" against a real S3 server
 * (versitygw, scripts/s3.sh): the output read back by DuckDB over S3 (httpfs), the same
 * exactly-once checks as on disk after kill -9 at each step of the S3 path (before and after the
 * PUT, inside the transaction, after the commit, mid-batch, and between the parts of a multipart
 * upload), an outage of the store ridden out, one that lasts past s3.retry_limit ending the run
 * with one line, and a wrong secret refused with one line that does not contain it.
 */
import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { createWorkspace, KSTREAM_BIN, type Workspace } from "./harness.ts";
import { checkExactlyOnce } from "./pipeline.ts";
import { duckdbAvailable, duckdbOverS3, parquetScan, pauseS3, readS3Lineage, resumeS3, s3Environment, s3Toml, S3_BUCKET, s3ServerBuilt, useS3Server } from "./s3-server.ts";

const workspaces: Workspace[] = [];

useS3Server(() => {
  resumeS3();
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

interface S3Workspace extends Workspace {
  readonly url: string;
}

/** A workspace whose Parquet output is a fresh prefix of the bucket, with `records` produced. */
async function prepared(label: string, records: number, clean = "file_max_rows = 250", extraToml = "", partitions = 3): Promise<S3Workspace> {
  const prefix = `it-${label}-${process.pid}-${Date.now().toString(36)}`;
  const ws = createWorkspace(label, s3Toml(extraToml));
  workspaces.push(ws);
  let toml = (await Bun.file(ws.configPath).text()).replace("partitions = 3\n", `partitions = ${partitions}\n`);
  if (clean.includes("file_max_age")) toml = toml.replace(/file_max_age = .*\n/, "");
  writeFileSync(ws.configPath, toml.replace('parquet_dir = "out/parquet"\n', `parquet_dir = "s3://${S3_BUCKET}/${prefix}"\n${clean}\nsession_timeout = "6s"\n`));
  const random = createRandom(records);
  writeFileSync(ws.path("in.ndjson"), `${Array.from({ length: records }, (_, i) => JSON.stringify(makeRecord(i + 1, random))).join("\n")}\n`);
  expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
  return Object.assign(ws, { url: `s3://${S3_BUCKET}/${prefix}` });
}

const run = (ws: Workspace, args: string[], env: Record<string, string> = {}, timeoutMs = 150_000) => ws.run(args, { env: { ...s3Environment(), ...env }, timeoutMs });

function startClean(ws: Workspace, env: Record<string, string> = {}) {
  return Bun.spawn([KSTREAM_BIN, "stream-clean", "--until-caught-up", "--config", ws.configPath], {
    cwd: ws.dir,
    env: { ...process.env, ...s3Environment(), ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
}

async function expectExactlyOnce(ws: S3Workspace, records: number) {
  const report = await checkExactlyOnce(ws.topics, ws.url, readS3Lineage);
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

describe.skipIf(!duckdbAvailable() || !s3ServerBuilt())("Parquet on S3", () => {
  test("the pipeline writes to S3 what DuckDB reads back over httpfs, and recon proves it from the bucket", async () => {
    const records = 3000;
    const ws = await prepared("pipeline", records);
    const clean = await run(ws, ["stream-clean", "--until-caught-up"]);
    expect(clean.exitCode).toBe(0);
    await expectExactlyOnce(ws, records);
    const [[rows, days, firstName]] = (await duckdbOverS3(
      `SELECT count(*), count(DISTINCT ingest_date), min(first_name) FROM ${await parquetScan(ws.url)}`,
    )) as [[number, number, string]];
    expect(rows).toBeGreaterThan(records * 0.9);
    expect(days).toBeGreaterThanOrEqual(1);
    expect(typeof firstName).toBe("string");
    const recon = await run(ws, ["recon", "--json"]);
    expect(recon.exitCode).toBe(0);
    expect(JSON.parse(recon.stdout)).toMatchObject({ verdict: "ok", landed: rows, missing: 0, duplicated: 0 });
    const topic = await run(ws, ["recon", "--topic", "--json"]);
    expect(topic.exitCode).toBe(0);
    expect(JSON.parse(topic.stdout)).toMatchObject({ verdict: "ok", landed: rows });
  }, 300_000);

  test("kstream config shows the S3 secret as <redacted>, never its value", async () => {
    const ws = await prepared("config", 0);
    const shown = await run(ws, ["config"], { AWS_SECRET_ACCESS_KEY: "env-secret-never-shown" });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain('secret_access_key = "<redacted>"');
    expect(shown.stdout).toContain(`parquet_dir = "${ws.url}"`);
    expect(shown.stdout + shown.stderr).not.toContain("env-secret-never-shown");
  }, 120_000);

  test.each(["mid-batch", "before-rename", "after-rename", "in-transaction", "after-commit"])(
    "kill -9 at %s on the S3 path, then restart: every offset in exactly one row or dead letter, every row in one staging message",
    async (point) => {
      const records = 3000;
      const ws = await prepared(`crash-${point}`, records);
      const crashed = startClean(ws, { KSTREAM_FAULT: `${point}:3` });
      await crashed.exited;
      expect(crashed.signalCode).toBe("SIGKILL");
      const restarted = await run(ws, ["stream-clean", "--until-caught-up"]);
      expect(restarted.exitCode).toBe(0);
      await expectExactlyOnce(ws, records);
    },
    300_000,
  );

  test("kill -9 between the parts of a multipart upload leaves no object, and the restart writes the file whole", async () => {
    // One partition, one file of 80,000 uncompressed rows (~5.9 MB): two parts of 5 MiB and the rest.
    const records = 80_000;
    const ws = await prepared("crash-multipart", records, 'file_max_rows = 80000\ncompression = "uncompressed"\nfile_max_age = "10 minutes"', "part_size_mb = 5\n", 1);
    const toml = await Bun.file(ws.configPath).text();
    expect(toml).toContain("part_size_mb = 5");
    const crashed = startClean(ws, { KSTREAM_FAULT: "mid-multipart:1" });
    await crashed.exited;
    expect(crashed.signalCode).toBe("SIGKILL");
    expect(await readS3Lineage(ws.url)).toEqual([]);
    const restarted = await run(ws, ["stream-clean", "--until-caught-up"]);
    expect(restarted.exitCode).toBe(0);
    await expectExactlyOnce(ws, records);
  }, 400_000);

  test("the store frozen for 20 s mid-run is ridden out: the run completes, exactly once", async () => {
    const records = 30_000;
    const ws = await prepared("outage", records, "file_max_rows = 250", 'retry_limit = "90s"\nrequest_timeout = "5s"\n');
    const child = startClean(ws);
    const stderr = new Response(child.stderr).text();
    await Bun.sleep(2_500);
    pauseS3();
    expect(child.exitCode).toBeNull();
    await Bun.sleep(20_000);
    resumeS3();
    const exitCode = await child.exited;
    expect(exitCode).toBe(0);
    // The outage was met, not slept through after the run had ended.
    expect(await stderr).toContain("retrying for up to s3.retry_limit (90 s)");
    await expectExactlyOnce(ws, records);
  }, 300_000);

  test("a store that stays away past s3.retry_limit ends the run with exit 1 and one line naming it, well before kafka.retry_limit", async () => {
    const records = 30_000;
    const ws = await prepared("gone", records, "file_max_rows = 250", 'retry_limit = "8s"\nrequest_timeout = "2s"\n');
    const child = startClean(ws);
    await Bun.sleep(2_500);
    pauseS3();
    expect(child.exitCode).toBeNull();
    const pausedAt = Date.now();
    try {
      const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
      expect(exitCode).toBe(1);
      // kafka.retry_limit is 2 minutes: a storage failure past its own limit must not be retried under it.
      expect(Date.now() - pausedAt).toBeLessThan(90_000);
      const errors = stderr.split("\n").filter((line) => line.startsWith("[error]") || line.startsWith("kstream:") || /error/i.test(line.slice(0, 12)));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("s3.retry_limit");
      expect(errors[0]).toContain("s3://kstream/");
    } finally {
      resumeS3();
    }
    // Whatever was committed before is still exactly once after a run that comes back.
    expect((await run(ws, ["stream-clean", "--until-caught-up"])).exitCode).toBe(0);
    await expectExactlyOnce(ws, records);
  }, 300_000);

  test("a wrong secret is refused with one line that names where the secret came from, not what it is", async () => {
    const ws = await prepared("wrong-secret", 100);
    const toml = await Bun.file(ws.configPath).text();
    writeFileSync(ws.configPath, toml.replace(/secret_access_key_file = .*\n/, ""));
    const result = await run(ws, ["stream-clean", "--until-caught-up"], { AWS_SECRET_ACCESS_KEY: "wrong-secret-0123456789" });
    expect(result.exitCode).toBe(1);
    const lines = result.stderr.trim().split("\n").filter((line) => /refused the credentials/.test(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("AWS_SECRET_ACCESS_KEY");
    expect(result.stderr + result.stdout).not.toContain("wrong-secret-0123456789");
  }, 120_000);
});
