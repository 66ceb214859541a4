import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { createRandom, makeRecord } from "../../scripts/gen-sample.ts";
import { streamSettings } from "../../src/commands/stream-clean.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { createLocalCleaner } from "../../src/stream/cleaner.ts";
import { createPartitionSink } from "../../src/stream/partition-sink.ts";
import { startPartitionWorker } from "../../src/stream/partition-worker.ts";
import { BROKER, createWorkspace, KSTREAM_BIN, type Workspace } from "./harness.ts";
import { checkExactlyOnce } from "./pipeline.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

/** Small files and a short session timeout: many cycles to crash in, quick fail-over. */
const CRASHY = '[clean]\nfile_max_rows = 250\n';

/** A workspace with `records` produced; its cycles clean in `workers` clean worker threads (0: in the main thread). */
async function prepared(label: string, records: number, workers = 1): Promise<Workspace> {
  const ws = createWorkspace(label, "");
  workspaces.push(ws);
  const toml = await Bun.file(ws.configPath).text();
  writeFileSync(ws.configPath, toml.replace("[clean]\n", `[clean]\nfile_max_rows = 250\nsession_timeout = "6s"\nworkers = ${workers}\n`));
  const random = createRandom(records);
  const lines = Array.from({ length: records }, (_, i) => JSON.stringify(makeRecord(i + 1, random)));
  writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
  expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
  return ws;
}

function startClean(ws: Workspace, extraArgs: string[] = [], env: Record<string, string> = {}) {
  return Bun.spawn([KSTREAM_BIN, "stream-clean", "--config", ws.configPath, ...extraArgs], {
    cwd: ws.dir,
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
}

async function expectExactlyOnce(ws: Workspace, records: number) {
  const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
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

describe("exactly once across crashes", () => {
  test.each([
    ...["mid-batch", "clean-encode", "before-rename", "after-rename", "in-transaction", "after-commit"].map((point) => [point, 1] as const),
    ...["mid-batch", "before-rename", "after-commit"].map((point) => [point, 0] as const),
  ])(
    "kill -9 at %s (%d clean workers), then restart: every offset in exactly one row or dead letter, every row in one staging message",
    async (point, workers) => {
      const records = 3000;
      const ws = await prepared(`crash-${point}-${workers}`, records, workers);
      const crashed = startClean(ws, ["--until-caught-up"], { KSTREAM_FAULT: `${point}:3` });
      await crashed.exited;
      expect(crashed.signalCode).toBe("SIGKILL");
      const restarted = await ws.run(["stream-clean", "--until-caught-up"]);
      expect(restarted.exitCode).toBe(0);
      await expectExactlyOnce(ws, records);
    },
  );

  test("kill -9 at random moments, restarting each time: nothing lost, nothing duplicated", async () => {
    const records = 20_000;
    const ws = await prepared("random-kills", records);
    const random = createRandom(2026);
    for (let kill = 0; kill < 5; kill++) {
      const child = startClean(ws, ["--until-caught-up"]);
      await Bun.sleep(700 + Math.floor(random() * 1500));
      child.kill("SIGKILL");
      await child.exited;
    }
    const last = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 120_000 });
    expect(last.exitCode).toBe(0);
    await expectExactlyOnce(ws, records);
  });

  test("two processes share the group; one is killed mid-run and the other takes over its partitions", async () => {
    const records = 20_000;
    const ws = await prepared("two-processes", records);
    const survivor = startClean(ws, ["--until-caught-up"]);
    const victim = startClean(ws, ["--until-caught-up"]);
    await Bun.sleep(2500);
    victim.kill("SIGKILL");
    const timer = setTimeout(() => survivor.kill("SIGKILL"), 120_000);
    const exitCode = await survivor.exited;
    clearTimeout(timer);
    expect({ exitCode, stderr: exitCode === 0 ? "" : await new Response(survivor.stderr).text() }).toEqual({ exitCode: 0, stderr: "" });
    await expectExactlyOnce(ws, records);
  });
});

describe("exactly once when a cycle fails retriably in-process (a broker closing the connection)", () => {
  test.each(["before-rename", "after-rename", "in-transaction", "after-commit"])(
    "a retriable failure at %s: the same run starts the partition again and finishes, every record exactly once",
    async (point) => {
      const records = 3000;
      const ws = await prepared(`fail-${point}`, records);
      // after-commit is the answer lost after the commit landed (its files must stay);
      // in-transaction the commit never sent (its files must go, its records be cleaned again).
      const result = await ws.run(["stream-clean", "--until-caught-up"], { env: { KSTREAM_FAULT: `${point}:3:fail` }, timeoutMs: 120_000 });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toContain(`injected at ${point}`);
      // Each record counts once as read; the dropped cycle's records, cleaned again, count apart.
      expect(result.stderr).toContain("caught up: read 3,000");
      if (point !== "after-commit") expect(result.stderr).toMatch(/read 3,000 \(and [1-9][\d,]* again, after a partition restarted or moved\)/);
      await expectExactlyOnce(ws, records);
    },
  );

  test("a clean worker that fails ends the run with KSTREAM_WORKER, committing nothing of its cycle; a restart finishes, every record exactly once", async () => {
    const records = 3000;
    const ws = await prepared("fail-clean-worker", records);
    const failed = await ws.run(["stream-clean", "--until-caught-up", "--json"], { env: { KSTREAM_FAULT: "clean-encode:1:fail" }, timeoutMs: 120_000 });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout + failed.stderr).toContain("KSTREAM_WORKER");
    expect(failed.stderr).toContain("injected at clean-encode");
    const restarted = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 120_000 });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    await expectExactlyOnce(ws, records);
  });

  test("a partition whose transactional producer cannot start (the brokers away) is started again: the run finishes, every record exactly once", async () => {
    const records = 3000;
    const ws = await prepared("fail-worker-start", records);
    const result = await ws.run(["stream-clean", "--until-caught-up"], { env: { KSTREAM_FAULT: "worker-start:2:fail" }, timeoutMs: 120_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/partition \d: cannot start the transactional producer .*injected at worker-start.*; trying again in 1 s/);
    await expectExactlyOnce(ws, records);
  });

  test("a cycle closed by the clock that fails retriably restarts only its partition, while records keep arriving", async () => {
    const ws = createWorkspace("fail-by-clock", "");
    workspaces.push(ws);
    const toml = await Bun.file(ws.configPath).text();
    // Cycles end by age (file_max_age), never by size: the clock's path, not the batch's.
    writeFileSync(ws.configPath, toml.replace('file_max_age = "2s"', 'file_max_age = "500ms"\nsession_timeout = "6s"'));
    const records = 3000;
    const random = createRandom(records);
    writeFileSync(ws.path("in.ndjson"), `${Array.from({ length: records }, (_, i) => JSON.stringify(makeRecord(i + 1, random))).join("\n")}\n`);
    // stream-clean refuses a missing input topic, and produce creates it: an empty run first.
    writeFileSync(ws.path("empty.ndjson"), "");
    expect((await ws.run(["produce", ws.path("empty.ndjson")])).exitCode).toBe(0);
    const cleaner = startClean(ws, [], { KSTREAM_FAULT: "after-commit:2:fail" });
    expect((await ws.run(["produce", ws.path("in.ndjson"), "--rate", "1000"])).exitCode).toBe(0);
    // Done when recon sees every record landed (exit 0); give up when stream-clean exits, or after a minute.
    const deadline = Date.now() + 60_000;
    let recon = await ws.run(["recon"]);
    while (recon.exitCode !== 0 && cleaner.exitCode === null && Date.now() < deadline) {
      await Bun.sleep(500);
      recon = await ws.run(["recon"]);
    }
    cleaner.kill("SIGTERM");
    const exitCode = await cleaner.exited;
    const stderr = await new Response(cleaner.stderr).text();
    expect(recon.exitCode, `${recon.stdout}${recon.stderr}\n${stderr}`).toBe(0);
    expect(exitCode, stderr).toBe(0);
    expect(stderr).toMatch(/partition \d: cannot commit the cycle .*injected at after-commit.*; starting the partition again from offset \d+/);
    await expectExactlyOnce(ws, records);
  }, 120_000);
});

describe("a partition's new owner settles the previous owner's transaction first", () => {
  // A commit whose answer was lost (the broker stopping) can still complete on the broker. The new
  // owner must fence the old transactional producer, which waits for that transaction to end,
  // before it reads the committed offset: read earlier, the offset predates the commit, and
  // recovery deletes the Parquet files of a cycle whose staging messages and offset then land.
  test("the previous owner's open transaction can no longer commit once the new worker reads the committed offset", async () => {
    const ws = await prepared("fence-first", 30);
    const { config, secrets } = loadConfig({ configFlag: ws.configPath, cwd: ws.dir });
    const group = config.clean.group_id;
    const parquetDir = ws.path("out", "parquet");
    mkdirSync(parquetDir, { recursive: true });
    // The previous owner: another client with the same transactional id, its transaction still open.
    const kafka = new Kafka({ clientId: "kstream-it-previous-owner", brokers: [BROKER], logLevel: logLevel.NOTHING });
    const previousOwner = kafka.producer({ transactionalId: `kstream-${group}-${ws.topics.input}-0`, idempotent: true, maxInFlightRequests: 1 });
    await previousOwner.connect();
    const open = await previousOwner.transaction();
    await open.sendOffsets({ consumerGroupId: group, topics: [{ topic: ws.topics.input, partitions: [{ partition: 0, offset: "5" }] }] });

    const context = createKafka(config, secrets, "fencing-test");
    const settings = streamSettings(config, context.retry);
    let previousCommit = "not tried";
    const worker = await startPartitionWorker(context.kafka, settings, 0, {
      readCommittedOffset: async () => {
        previousCommit = await open.commit().then(
          () => "committed",
          (error: Error) => `refused (${error.name})`,
        );
        return 0n;
      },
      counters: { read: 0, read_again: 0, cleaned: 0, dead_lettered: 0, files: 0, commits: 0 },
      readUpTo: new Map(),
      partitionCounts: { staging: 3, deadLetter: 3 },
      cleanerFor: (partition) =>
        createLocalCleaner({
          sink: createPartitionSink({ store: settings.store, topic: ws.topics.input, partition, compression: settings.compression }),
          partition,
          rules: settings.rules,
          stagingPartitions: 3,
        }),
    });
    await worker.close();
    await previousOwner.disconnect();
    expect(previousCommit).toStartWith("refused");
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [ws.topics.input] });
    await admin.disconnect();
    expect(offsets!.partitions.find((p) => p.partition === 0)?.offset).toBe("-1");
  });
});
