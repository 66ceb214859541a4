import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, WorkerError } from "../../../src/errors.ts";
import { createLocalStore } from "../../../src/storage/local-store.ts";
import { startCleanPool } from "../../../src/stream/clean-pool.ts";
import { type CleanedChunk, createLocalCleaner } from "../../../src/stream/cleaner.ts";
import { createPartitionSink } from "../../../src/stream/partition-sink.ts";
import type { Outcome, RecordIn } from "../../../src/stream/worker-protocol.ts";
import { messages } from "./fakes.ts";

const rules = { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy"], windowMs: 300_000 };
const compression = { codec: "snappy" } as const;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "kstream-pool-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const records = (from: number, count: number): RecordIn[] =>
  messages(from, count, new Set([from + 3, from + 17])).map((message) => ({ offset: BigInt(message.offset), timestamp: Number(message.timestamp), value: message.value }));

function readAll(chunk: CleanedChunk): unknown[] {
  const outcomes: unknown[] = [];
  for (let index = 0; index < chunk.count; index++) {
    const outcome: Outcome = chunk.next();
    outcomes.push(outcome.kind === "row" ? { ...outcome, value: outcome.value.toString() } : outcome);
  }
  return outcomes;
}

describe("the clean pool", () => {
  test("a worker gives the same outcomes and writes the same Parquet bytes as cleaning in this thread", async () => {
    const pool = startCleanPool(1);
    try {
      const spec = { topic: "input", partition: 2, rules, compression, stagingPartitions: 5 };
      const local = createLocalCleaner({ sink: createPartitionSink({ store: createLocalStore(tempDir()), topic: "input", partition: 2, compression }), partition: 2, rules, stagingPartitions: 5 });
      const remote = pool.cleanerFor(spec, createLocalStore(tempDir()));
      for (const cleaner of [local, remote]) {
        const first = cleaner.clean(records(0, 600));
        const second = cleaner.clean(records(600, 400));
        cleaner.accept(first.id, 598);
        cleaner.release(first.id);
        cleaner.accept(second.id, 100);
        cleaner.release(second.id);
        expect(cleaner.rowCount).toBe(698);
      }
      const outcomes = await Promise.all([local, remote].map((cleaner) => cleaner.clean(records(1_000, 50)).cleaned.then(readAll)));
      expect(outcomes[1]).toEqual(outcomes[0]!);
      expect(outcomes[0]!.filter((outcome) => (outcome as Outcome).kind === "dead").length).toBe(2);
      const [localFiles, remoteFiles] = await Promise.all([local.flush(), remote.flush()]);
      expect(remoteFiles!.map((file) => [file.key, file.rows])).toEqual(localFiles!.map((file) => [file.key, file.rows]));
      expect(remoteFiles![0]!.rows).toBe(698);
      expect(readFileSync(remoteFiles![0]!.path)).toEqual(readFileSync(localFiles![0]!.path));
      expect(remote.rowCount).toBe(0);
    } finally {
      pool.close();
    }
  });

  test("a request the worker cannot answer rejects with KSTREAM_WORKER instead of waiting", async () => {
    const pool = startCleanPool(1);
    try {
      const cleaner = pool.cleanerFor({ topic: "input", partition: 0, rules, compression, stagingPartitions: 1 }, createLocalStore(tempDir()));
      cleaner.close();
      const error = await cleaner.clean(records(0, 5)).cleaned.catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(WorkerError);
      expect((error as WorkerError).code).toBe(ErrorCode.worker);
      expect((error as Error).message).toMatch(/no sink 0 is open/);
    } finally {
      pool.close();
    }
  });

  test("a closed pool refuses at once, and what was in flight is rejected", async () => {
    const pool = startCleanPool(1);
    const cleaner = pool.cleanerFor({ topic: "input", partition: 0, rules, compression, stagingPartitions: 1 }, createLocalStore(tempDir()));
    const inFlight = cleaner.clean(records(0, 2_000)).cleaned.catch((failure: unknown) => failure);
    pool.close();
    expect(await inFlight).toBeInstanceOf(WorkerError);
    expect(await cleaner.flush().catch((failure: unknown) => failure)).toBeInstanceOf(WorkerError);
  });
});
