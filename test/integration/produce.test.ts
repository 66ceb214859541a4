import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createWorkspace, headerValue, kcatConsume, parseJsonOutput, type Workspace } from "./harness.ts";

interface Summary {
  run_id: string;
  status: string;
  sent: number;
  rejected: number;
  rejections: Array<{ line: number; reason: string }>;
}

const workspaces: Workspace[] = [];
function workspace(label: string, extraToml = ""): Workspace {
  const ws = createWorkspace(label, extraToml);
  workspaces.push(ws);
  return ws;
}
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

const elements = [
  { id: 1, first_name: "Barthel", last_name: "Kittel", email: "bkittel0@printfriendly.com", gender: "Male", ip_address: "130.187.82.195", date: "06/05/2018", country: "France" },
  { id: "2", first_name: "  Zoë ", email: null, country: "côte   d'ivoire" },
  { first_name: "no id at all" },
  { id: 1.0, nested: { a: [1, 2, { b: "x y" }] }, unicode: "日本 🎉" },
  [1, 2, 3],
  "just a string",
];

/** Requests of 1,000 messages, the size the fault tests count in (the default is larger). */
const THOUSAND_PER_REQUEST = "[produce]\nbatch_size = 1000\n";

/** Produces 5,000 records, five requests of 1,000 (a workspace made with THOUSAND_PER_REQUEST), with KSTREAM_FAULT set to `fault`. */
function produceWithFault(ws: Workspace, fault: string) {
  writeFileSync(ws.path("in.ndjson"), Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: i + 1 })).join("\n"));
  return ws.run(["produce", ws.path("in.ndjson")], { env: { KSTREAM_FAULT: fault } });
}

function ledgerRows(ws: Workspace, sql: string, ...params: Array<string | number>) {
  const db = new Database(ws.path("out", "ledger.db"), { readonly: true });
  try {
    return db.query(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** Every `partition:offset` the ledger's ranges count, all runs together. */
function ledgerOffsets(ws: Workspace): Set<string> {
  const counted = new Set<string>();
  for (const range of ledgerRows(ws, "SELECT partition, first_offset, last_offset FROM run_offsets")) {
    for (let offset = range.first_offset as number; offset <= (range.last_offset as number); offset++) counted.add(`${range.partition}:${offset}`);
  }
  return counted;
}

describe("kstream produce", () => {
  test("every element of a pretty-printed JSON array lands unchanged as compact JSON, keyed by id, with the run header", async () => {
    const ws = workspace("array");
    writeFileSync(ws.path("input.json"), JSON.stringify(elements, null, 2));
    const result = await ws.run(["produce", ws.path("input.json"), "--json"]);
    expect(result.exitCode).toBe(0);
    const summary = parseJsonOutput<Summary>(result);
    expect(summary).toMatchObject({ status: "completed", sent: elements.length, rejected: 0 });

    const messages = await kcatConsume(ws.topics.input);
    expect(messages.length).toBe(elements.length);
    const byPayload = new Map(messages.map((m) => [m.payload, m]));
    for (const element of elements) {
      const message = byPayload.get(JSON.stringify(element));
      expect(message).toBeDefined();
      const id = typeof element === "object" && !Array.isArray(element) ? (element as { id?: unknown }).id : undefined;
      expect(message!.key).toBe(id === undefined ? null : String(id));
      expect(headerValue(message!, "kstream-run")).toBe(summary.run_id);
    }
  });

  test("number literals are published exactly as written (1.0 and ids beyond 2^53 are not rewritten)", async () => {
    const ws = workspace("literals");
    writeFileSync(ws.path("in.ndjson"), '{"id":1.0,"x":1e2}\n{"id": 1152921504606846977 , "y" : [ 1 , 2 ]}\n');
    expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
    const payloads = (await kcatConsume(ws.topics.input)).map((m) => [m.key, m.payload]).sort();
    expect(payloads).toEqual([
      ["1.0", '{"id":1.0,"x":1e2}'],
      ["1152921504606846977", '{"id":1152921504606846977,"y":[1,2]}'],
    ]);
  });

  test("NDJSON lines that are not JSON are rejected by line number, counted, and nothing else is lost", async () => {
    const ws = workspace("ndjson-bad");
    const lines = ['{"id":1}', "{not json", '{"id":3}', "", '{"id":4', '{"id":5}'];
    writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
    const result = await ws.run(["produce", ws.path("in.ndjson"), "--json"]);
    expect(result.exitCode).toBe(0);
    const summary = parseJsonOutput<Summary>(result);
    expect(summary.sent).toBe(3);
    expect(summary.rejected).toBe(2);
    expect(summary.rejections.map((r) => r.line)).toEqual([2, 5]);
    expect(result.stderr).toContain("in.ndjson:2:");
    expect(result.stderr).toContain("in.ndjson:5:");
    const [run] = ledgerRows(ws, "SELECT sent, rejected, status FROM runs WHERE id = ?", summary.run_id);
    expect(run).toEqual({ sent: 3, rejected: 2, status: "completed" });
    expect(ledgerRows(ws, "SELECT line FROM run_rejections WHERE run_id = ? ORDER BY line", summary.run_id)).toEqual([{ line: 2 }, { line: 5 }]);
    expect((await kcatConsume(ws.topics.input)).map((m) => m.payload).sort()).toEqual(['{"id":1}', '{"id":3}', '{"id":5}']);
  });

  test("a JSON array with a syntax error stops with exit 1 at line and column, and what was published stays counted", async () => {
    const ws = workspace("array-bad");
    writeFileSync(ws.path("in.json"), '[\n  {"id": 1},\n  {"id": 2},\n  {"id": 3,, "x": 1}\n]\n');
    const result = await ws.run(["produce", ws.path("in.json")]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/in\.json:4:12/);
    const runs = ledgerRows(ws, "SELECT sent, status, error FROM runs");
    expect(runs.length).toBe(1);
    expect(runs[0]!.status).toBe("failed");
    expect(runs[0]!.sent).toBe(2);
    expect((await kcatConsume(ws.topics.input)).length).toBe(2);
  });

  test("the ledger's acknowledged offset ranges are exactly the topic's offsets of the run", async () => {
    const ws = workspace("ranges");
    const ndjson = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: i + 1, email: `u${i}@x.io` })).join("\n");
    writeFileSync(ws.path("in.ndjson"), ndjson);
    const summary = parseJsonOutput<Summary>(await ws.run(["produce", ws.path("in.ndjson"), "--json"]));
    expect(summary.sent).toBe(5000);
    const messages = await kcatConsume(ws.topics.input);
    const fromTopic = new Map<number, number[]>();
    for (const m of messages) {
      expect(headerValue(m, "kstream-run")).toBe(summary.run_id);
      fromTopic.set(m.partition, [...(fromTopic.get(m.partition) ?? []), m.offset]);
    }
    const ranges = ledgerRows(ws, "SELECT partition, first_offset, last_offset, count FROM run_offsets WHERE run_id = ?", summary.run_id);
    let total = 0;
    for (const range of ranges) {
      const offsets = (fromTopic.get(range.partition as number) ?? []).sort((a, b) => a - b);
      expect(offsets[0]).toBe(range.first_offset as number);
      expect(offsets.at(-1)).toBe(range.last_offset as number);
      expect(offsets.length).toBe(range.count as number);
      total += range.count as number;
    }
    expect(total).toBe(5000);
    expect(ranges.length).toBe(fromTopic.size);
  });

  test("stdin with '-', gzip input, --limit and --dry-run", async () => {
    const ws = workspace("stdin");
    const ndjson = '{"id":1}\n{"id":2}\n{"id":3}\n';
    const fromStdin = parseJsonOutput<Summary>(await ws.run(["produce", "-", "--json"], { stdin: ndjson }));
    expect(fromStdin.sent).toBe(3);

    writeFileSync(ws.path("in.ndjson.gz"), Bun.gzipSync(new TextEncoder().encode(ndjson)));
    const limited = parseJsonOutput<Summary>(await ws.run(["produce", ws.path("in.ndjson.gz"), "--limit", "2", "--json"]));
    expect(limited.sent).toBe(2);

    const dry = parseJsonOutput<Summary>(await ws.run(["produce", ws.path("in.ndjson.gz"), "--dry-run", "--json"]));
    expect(dry).toMatchObject({ status: "dry-run", sent: 3, run_id: null });
    expect((await kcatConsume(ws.topics.input)).length).toBe(5);
  });

  test("--rate paces the messages", async () => {
    const ws = workspace("rate");
    writeFileSync(ws.path("in.ndjson"), '{"id":1}\n{"id":2}\n{"id":3}\n{"id":4}\n{"id":5}\n');
    const started = performance.now();
    const result = await ws.run(["produce", ws.path("in.ndjson"), "--rate", "4"]);
    expect(result.exitCode).toBe(0);
    // five messages at 4/s: the last is due one second after the first
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
  });

  test("a missing input file is one clear error and exit 1", async () => {
    const ws = workspace("missing");
    const result = await ws.run(["produce", ws.path("nope.ndjson")]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("nope.ndjson");
    expect(result.stderr.trim().split("\n").length).toBe(1);
  });

  test("a ledger held by another process mid-run stops produce with one clear line, and no acknowledged record goes uncounted", async () => {
    const ws = workspace("ledger-held");
    const records = 4000;
    writeFileSync(ws.path("in.ndjson"), Array.from({ length: records }, (_, i) => JSON.stringify({ id: i + 1 })).join("\n"));
    const ledgerPath = ws.path("out", "ledger.db");
    // Paced over ~4 s so the lock lands mid-run; a 1 s lock timeout so that both of produce's
    // waits (the failing write, then one more try at the end) pass while the lock is still held.
    const produced = ws.run(["produce", ws.path("in.ndjson"), "--rate", "1000"], { env: { KSTREAM_LEDGER_LOCK_TIMEOUT: "1s" } });
    const sentSoFar = () => {
      if (!existsSync(ledgerPath)) return 0;
      try {
        return (ledgerRows(ws, "SELECT COALESCE(SUM(sent), 0) AS n FROM runs")[0]!.n as number) ?? 0;
      } catch {
        return 0;
      }
    };
    while (sentSoFar() < 500) await Bun.sleep(50);
    const holder = new Database(ledgerPath);
    holder.exec("BEGIN EXCLUSIVE");
    await Bun.sleep(4000);
    holder.exec("ROLLBACK");
    holder.close();

    const result = await produced;
    expect(result.exitCode, result.stderr).toBe(1);
    const errors = result.stderr.trim().split("\n").filter((line) => line.includes("[error]"));
    expect(errors.length, result.stderr).toBe(1);
    expect(errors[0]).toMatch(/ledger .*locked by another process/);
    expect(errors[0]).toContain("ledger.db.unrecorded.ndjson");
    expect(existsSync(`${ledgerPath}.unrecorded.ndjson`)).toBe(true);

    // The next command that opens the ledger (here recon) folds the journal in: the ledger then
    // counts exactly the offsets on the topic, and the run says how it ended.
    await ws.run(["recon"]);
    expect(existsSync(`${ledgerPath}.unrecorded.ndjson`)).toBe(false);
    const onTopic = await kcatConsume(ws.topics.input);
    expect(onTopic.length).toBeGreaterThan(500);
    expect(onTopic.length).toBeLessThan(records);
    const runs = ledgerRows(ws, "SELECT id, status, sent FROM runs");
    expect(runs).toMatchObject([{ status: "failed", sent: onTopic.length }]);
    expect(ledgerOffsets(ws)).toEqual(new Set(onTopic.map((m) => `${m.partition}:${m.offset}`)));
  }, 60_000);

  test("a request whose answer never came is kept as in doubt, and recon counts what of it landed", async () => {
    const ws = workspace("in-doubt", THOUSAND_PER_REQUEST);
    // The third request (of 1,000 messages) lands, and its answer is lost: the brokers went away.
    const result = await produceWithFault(ws, "answer-lost:3:fail");
    expect(result.exitCode, result.stderr).toBe(1);
    const errors = result.stderr.trim().split("\n").filter((line) => line.includes("[error]"));
    expect(errors.length, result.stderr).toBe(1);
    expect(errors[0]).toContain("1000 records sent without an answer are in doubt");
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "failed", sent: 2000 }]);
    expect(ledgerRows(ws, "SELECT SUM(count) AS n FROM run_in_doubt")[0]!.n).toBe(1000);
    const onTopic = await kcatConsume(ws.topics.input);
    expect(onTopic.length).toBe(3000);

    const recon = await ws.run(["recon"]);
    expect(recon.stderr).toMatch(/without an answer: \d+ landed \(offsets [\d, -]+\), now counted/);
    expect(recon.exitCode, recon.stderr).not.toBe(3);
    expect(ledgerRows(ws, "SELECT COUNT(*) AS n FROM run_in_doubt")[0]!.n).toBe(0);
    expect(ledgerRows(ws, "SELECT sent FROM runs")).toMatchObject([{ sent: 3000 }]);
    expect(ledgerOffsets(ws)).toEqual(new Set(onTopic.map((m) => `${m.partition}:${m.offset}`)));
  }, 60_000);

  test("a producer killed (kill -9) after a request landed and before its answer was recorded: recon finds the request and counts it", async () => {
    const ws = workspace("killed-in-doubt", THOUSAND_PER_REQUEST);
    // The third request (of 1,000 messages) lands, then the process dies before the ledger hears of it.
    const result = await produceWithFault(ws, "answer-lost:3");
    expect(result.exitCode, result.stderr).not.toBe(0);
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "running", sent: 2000 }]);
    expect(ledgerRows(ws, "SELECT SUM(count) AS n FROM run_in_doubt")[0]!.n).toBe(1000);
    const onTopic = await kcatConsume(ws.topics.input);
    expect(onTopic.length).toBe(3000);

    const recon = await ws.run(["recon"]);
    expect(recon.stderr).toMatch(/without an answer: \d+ landed \(offsets [\d, -]+\), now counted/);
    expect(ledgerRows(ws, "SELECT COUNT(*) AS n FROM run_in_doubt")[0]!.n).toBe(0);
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "running", sent: 3000 }]);
    expect(ledgerOffsets(ws)).toEqual(new Set(onTopic.map((m) => `${m.partition}:${m.offset}`)));
  }, 60_000);

  test("a producer killed (kill -9) before its request went: the request stays in doubt while the run may be alive, and is settled once its heartbeat is older than ledger.heartbeat_timeout", async () => {
    const ws = workspace("killed-before-send", THOUSAND_PER_REQUEST);
    // The process dies before the third request (of 1,000 messages) is sent.
    const result = await produceWithFault(ws, "before-send:3");
    expect(result.exitCode, result.stderr).not.toBe(0);
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "running", sent: 2000 }]);
    expect(ledgerRows(ws, "SELECT SUM(count) AS n FROM run_in_doubt")[0]!.n).toBe(1000);

    // Within the heartbeat timeout (1 minute by default) the run may still be producing.
    const early = await ws.run(["recon"]);
    expect(early.stderr).toMatch(/are not on the topic yet; its producer is alive .*, so they stay in doubt/);
    expect(ledgerRows(ws, "SELECT SUM(count) AS n FROM run_in_doubt")[0]!.n).toBe(1000);

    await Bun.sleep(2500);
    const late = await ws.run(["recon"], { env: { KSTREAM_LEDGER_HEARTBEAT_TIMEOUT: "2s" } });
    expect(late.exitCode, late.stderr).not.toBe(3); // behind (nothing cleaned yet), never a mismatch
    expect(late.stderr).toContain("published 2,000");
    expect(late.stderr).toMatch(/its producer stopped without finishing the run \(no heartbeat since [0-9T:.-]+Z: killed, or its machine went down\); marked failed/);
    expect(late.stderr).toMatch(/without an answer: none landed/);
    expect(ledgerRows(ws, "SELECT COUNT(*) AS n FROM run_in_doubt")[0]!.n).toBe(0);
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "failed", sent: 2000 }]);
    const onTopic = await kcatConsume(ws.topics.input);
    expect(ledgerOffsets(ws)).toEqual(new Set(onTopic.map((m) => `${m.partition}:${m.offset}`)));
  }, 60_000);

  test("a live producer keeps its run's heartbeat fresh, so recon never takes it for dead", async () => {
    const ws = workspace("heartbeat-live");
    writeFileSync(ws.path("in.ndjson"), Array.from({ length: 1500 }, (_, i) => JSON.stringify({ id: i + 1 })).join("\n"));
    const env = { KSTREAM_LEDGER_HEARTBEAT_TIMEOUT: "2s" };
    // 500 records a second: three seconds of producing, longer than the timeout.
    const producing = ws.run(["produce", ws.path("in.ndjson"), "--rate", "500"], { env });
    await Bun.sleep(2500);
    const during = await ws.run(["recon"], { env });
    expect(during.stderr).not.toContain("marked failed");
    const produced = await producing;
    expect(produced.exitCode, produced.stderr).toBe(0);
    expect(ledgerRows(ws, "SELECT status, sent FROM runs")).toMatchObject([{ status: "completed", sent: 1500 }]);
  }, 60_000);

  test("unreachable brokers fail within the configured limit with exit 1", async () => {
    const ws = createWorkspace("unreachable", "");
    workspaces.push(ws);
    writeFileSync(ws.path("in.ndjson"), '{"id":1}\n');
    const started = performance.now();
    const result = await ws.run(["produce", ws.path("in.ndjson")], {
      env: { KSTREAM_KAFKA_BROKERS: "127.0.0.1:1", KSTREAM_KAFKA_RETRY_LIMIT: "2s", KSTREAM_KAFKA_CONNECTION_TIMEOUT: "500ms" },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("127.0.0.1:1");
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
