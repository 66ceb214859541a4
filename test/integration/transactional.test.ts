/**
 * An input topic written by a transactional producer: committed and aborted transactions
 * interleaved with plain batches, on the real broker. stream-clean must read it read_committed
 * (no aborted record cleaned or dead-lettered), --until-caught-up must end although the last
 * offsets of a partition are control markers, and `recon --topic` must count the markers and the
 * aborted records as "not data". Oracles: DuckDB for Parquet, kcat for the dead letters and for
 * the committed records of the input.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { Kafka, logLevel, type Message } from "kafkajs";
import { BROKER, createWorkspace, headerValue, kcatConsume, parseJsonOutput, type Workspace } from "./harness.ts";
import { readParquetRows } from "./pipeline.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

interface TopicReport {
  verdict: string;
  offsets: number;
  landed: number;
  dead_lettered: number;
  not_data: number;
  control_markers: number;
  aborted: number;
  pending: number;
  missing: number;
  duplicated: number;
  first_missing: string[];
  first_duplicated: string[];
}

const kafka = new Kafka({ clientId: "kstream-it-upstream", brokers: [BROKER], logLevel: logLevel.NOTHING });

const record = (id: number, note: string): Message => ({ value: JSON.stringify({ id, email: `u${id}@x.io`, country: "Peru", note }) });

/** What the upstream wrote, by kind: the oracle for the counts recon must find. */
interface Written {
  committedIds: number[];
  abortedIds: number[];
  /** Valid JSON but not an object, committed: the one kind of dead letter expected. */
  committedBad: number;
  abortedRecords: number;
  transactions: number;
}

/**
 * Per partition, in this order: a plain batch, a committed transaction (with one non-object), an
 * aborted one (with one non-object), a plain batch, and then partition 0 ends on a committed
 * transaction (last offset a commit marker, delivered with its data) and partition 1 on an
 * aborted one (a fetch of only filtered records, which never reaches eachBatch).
 */
async function writeUpstream(topic: string, written: Written, base: number): Promise<void> {
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const txn = kafka.producer({ transactionalId: `kstream-it-upstream-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await plain.connect();
  await txn.connect();
  let next = base;
  const batch = (count: number, note: string) => Array.from({ length: count }, () => record(next++, note));
  const inTransaction = async (partition: number, messages: Message[], commit: boolean, bad: boolean) => {
    const open = await txn.transaction();
    await open.send({ topic, messages: [...messages, ...(bad ? [{ value: "[1,2]" }] : [])].map((m) => ({ ...m, partition })), acks: -1 });
    written.transactions++;
    const ids = messages.map((m) => (JSON.parse(String(m.value)) as { id: number }).id);
    if (commit) {
      await open.commit();
      written.committedIds.push(...ids);
      if (bad) written.committedBad++;
    } else {
      await open.abort();
      written.abortedIds.push(...ids);
      written.abortedRecords += messages.length + (bad ? 1 : 0);
    }
  };
  try {
    for (const partition of [0, 1]) {
      const first = batch(5, "plain");
      await plain.send({ topic, messages: first.map((m) => ({ ...m, partition })), acks: -1 });
      written.committedIds.push(...first.map((m) => (JSON.parse(String(m.value)) as { id: number }).id));
      await inTransaction(partition, batch(6, "committed"), true, true);
      await inTransaction(partition, batch(4, "aborted"), false, true);
      const second = batch(3, "plain");
      await plain.send({ topic, messages: second.map((m) => ({ ...m, partition })), acks: -1 });
      written.committedIds.push(...second.map((m) => (JSON.parse(String(m.value)) as { id: number }).id));
      if (partition === 0) await inTransaction(partition, batch(4, "committed"), true, false);
      else await inTransaction(partition, batch(5, "aborted"), false, false);
    }
  } finally {
    await plain.disconnect();
    await txn.disconnect();
  }
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

describe("a transactional upstream", () => {
  test("aborted records are never cleaned nor dead-lettered, --until-caught-up ends, and recon --topic counts markers and aborted records as not data", async () => {
    const ws = createWorkspace("txn-upstream");
    workspaces.push(ws);
    await createTopic(ws.topics.input, 2);
    const written: Written = { committedIds: [], abortedIds: [], committedBad: 0, abortedRecords: 0, transactions: 0 };
    await writeUpstream(ws.topics.input, written, 1);

    const started = performance.now();
    const cleaned = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 150_000 });
    expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    // Bounded: it ends on reaching the end offsets, not by a timeout.
    expect(performance.now() - started).toBeLessThan(120_000);

    const rows = await readParquetRows(ws.path("out", "parquet"));
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([...written.committedIds].sort((a, b) => a - b));
    const abortedIds = new Set(written.abortedIds);
    expect(rows.filter((r) => abortedIds.has(r.id))).toEqual([]);

    const deadLetters = await kcatConsume(ws.topics.dead_letter);
    expect(deadLetters.length).toBe(written.committedBad);
    // Each dead letter's source offset holds a committed record on the input (kcat, read_committed).
    const committedInput = new Set((await kcatConsume(ws.topics.input)).map((m) => `${m.partition}:${m.offset}`));
    for (const dead of deadLetters) {
      expect(committedInput.has(`${headerValue(dead, "kstream-source-partition")}:${headerValue(dead, "kstream-source-offset")}`)).toBe(true);
    }

    const recon = await ws.run(["recon", "--topic", "--json"]);
    expect(recon.exitCode, recon.stderr).toBe(0);
    const report = parseJsonOutput<TopicReport>(recon);
    expect(report).toMatchObject({
      verdict: "ok",
      landed: written.committedIds.length,
      dead_lettered: written.committedBad,
      aborted: written.abortedRecords,
      control_markers: written.transactions,
      not_data: written.abortedRecords + written.transactions,
      pending: 0,
      missing: 0,
      duplicated: 0,
    });
    expect(report.offsets).toBe(written.committedIds.length + written.committedBad + written.abortedRecords + written.transactions);
    expect(recon.stderr).toContain("recon: OK");
  }, 240_000);
});

/** kcat writing one zstd-compressed batch of `lines` to a partition (a producer that is not kstream). */
async function kcatProduceCompressed(topic: string, partition: number, lines: string[]): Promise<void> {
  const child = Bun.spawn(["kcat", "-b", BROKER, "-P", "-t", topic, "-p", String(partition), "-z", "zstd", "-X", "linger.ms=100"], {
    stdin: new Blob([`${lines.join("\n")}\n`]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) throw new Error(`kcat -P failed (${exitCode}): ${stderr}`);
}

describe("a mixed topic", () => {
  test("kstream produce, kcat's compressed batches and an aborted transaction on one topic: recon of the run and recon --topic both exit 0", async () => {
    const ws = createWorkspace("txn-mixed");
    workspaces.push(ws);
    const produced = Array.from({ length: 300 }, (_, i) => JSON.stringify(i % 50 === 7 ? [i] : { id: i + 1, email: `u${i}@x.io`, country: "Peru" }));
    writeFileSync(ws.path("in.ndjson"), `${produced.join("\n")}\n`);
    expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
    const compressed = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: 5000 + i, email: `k${i}@x.io`, country: "Chile" }));
    await kcatProduceCompressed(ws.topics.input, 0, compressed.slice(0, 20));
    await kcatProduceCompressed(ws.topics.input, 2, compressed.slice(20));
    const txn = kafka.producer({ transactionalId: `kstream-it-mixed-${ws.topics.input}`, idempotent: true, maxInFlightRequests: 1 });
    await txn.connect();
    const aborted = await txn.transaction();
    await aborted.send({ topic: ws.topics.input, messages: Array.from({ length: 7 }, (_, i) => ({ ...record(9000 + i, "aborted"), partition: 1 })), acks: -1 });
    await aborted.abort();
    await txn.disconnect();

    const cleaned = await ws.run(["stream-clean", "--until-caught-up"], { timeoutMs: 150_000 });
    expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    const rows = await readParquetRows(ws.path("out", "parquet"));
    expect(rows.filter((r) => r.id >= 9000)).toEqual([]);
    expect(rows.filter((r) => r.id >= 5000).length).toBe(40);

    const run = await ws.run(["recon", "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(parseJsonOutput<{ published: number; missing: number }>(run)).toMatchObject({ published: 300, missing: 0 });

    const topic = await ws.run(["recon", "--topic", "--json"]);
    expect(topic.exitCode, topic.stderr).toBe(0);
    expect(parseJsonOutput<TopicReport>(topic)).toMatchObject({
      verdict: "ok",
      offsets: 300 + 40 + 7 + 1,
      landed: 294 + 40,
      dead_lettered: 6,
      aborted: 7,
      control_markers: 1,
      not_data: 8,
      pending: 0,
      missing: 0,
      duplicated: 0,
    });
  }, 240_000);
});
