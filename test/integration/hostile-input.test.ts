/**
 * Hostile-input corpus (issue 7) run through the compiled binary against the real broker: files
 * that are truncated, not UTF-8, full of NUL bytes, one 100 MB line, nested 100 000 levels deep,
 * keyed `__proto__`, holding numbers beyond 2^53, empty, never closed, or larger than the broker
 * takes. Each case must end in a clear one-line error with SPEC's exit code, or in counted
 * rejections / dead letters — never a crash (stack trace), a hang (every run has a timeout) or a
 * silent drop: what landed on the topics is counted with kcat against the ledger and the summary,
 * and at the end every input offset must be in exactly one Parquet row or dead letter.
 *
 * The small corpus files live in test/fixtures/hostile/ (see its README); the big ones are
 * generated into the workspace at test time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BROKER, createWorkspace, headerValue, kcatConsume, KSTREAM_BIN, parseJsonOutput, type KcatMessage, type RunResult, type Workspace } from "./harness.ts";
import { checkExactlyOnce, readParquetRows } from "./pipeline.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures/hostile");
const fixture = (name: string) => join(FIXTURES, name);

/** No case may take longer than this: a hang fails the test instead of blocking the suite. */
const RUN_TIMEOUT_MS = 60_000;
/** Peak RSS allowed while produce reads a 100 MB line: bounded, not a speed target. */
const MAX_RSS_BYTES = 1024 * 1024 * 1024;

interface ProduceSummary {
  run_id: string | null;
  status: string;
  sent: number;
  rejected: number;
  rejections: Array<{ line: number; reason: string }>;
}

interface RunRow {
  id: string;
  status: string;
  sent: number;
  rejected: number;
  error: string | null;
}

let ws: Workspace;
beforeAll(() => {
  ws = createWorkspace("hostile");
});
afterAll(() => {
  rmSync(ws.dir, { recursive: true, force: true });
});

const run = (args: string[], options: { stdin?: string | Uint8Array } = {}) => ws.run(args, { ...options, timeoutMs: RUN_TIMEOUT_MS });

/** A crash shows as a stack trace, a runtime panic or a signal; kstream's own errors are one line. */
function expectNoCrash(result: RunResult): void {
  expect(result.stderr).not.toMatch(/^\s+at .+[:(]\d+/m);
  expect(result.stderr).not.toMatch(/panic|Segmentation fault|Unhandled|uncaught|RangeError|TypeError|SyntaxError|cannot serialize BigInt/i);
  // 137/143 would mean the timeout (or something else) killed it: a hang
  expect([0, 1, 2]).toContain(result.exitCode);
}

/** The one `[error]` line of a failed run (kstream prints exactly one). */
function errorLines(result: RunResult): string[] {
  return result.stderr.split("\n").filter((line) => line.includes("[error]") || /^kstream .*: /.test(line));
}

function ledgerRun(runId: string): RunRow {
  const db = new Database(ws.path("out", "ledger.db"), { readonly: true });
  try {
    return db.query("SELECT id, status, sent, rejected, error FROM runs WHERE id = ?").get(runId) as RunRow;
  } finally {
    db.close();
  }
}

/** The runs of the ledger, newest last (a failed produce prints no summary: its run is found here). */
function latestRun(): RunRow {
  const db = new Database(ws.path("out", "ledger.db"), { readonly: true });
  try {
    return db.query("SELECT id, status, sent, rejected, error FROM runs ORDER BY started_at DESC, id DESC LIMIT 1").get() as RunRow;
  } finally {
    db.close();
  }
}

/** What the input topic holds for one run, read with kcat (a tool we did not write). */
async function landedFor(runId: string): Promise<KcatMessage[]> {
  return (await kcatConsume(ws.topics.input)).filter((message) => headerValue(message, "kstream-run") === runId);
}

/** Produce, then check that ledger, summary and topic agree exactly: nothing dropped silently, nothing extra. */
async function produceAndCount(file: string, expected: { exitCode: number; sent: number; rejected: number; status: string }) {
  const result = await run(["produce", file, "--json"]);
  expectNoCrash(result);
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: expected.exitCode });
  const row = result.exitCode === 0 ? ledgerRun(parseJsonOutput<ProduceSummary>(result).run_id!) : latestRun();
  expect(row).toMatchObject({ status: expected.status, sent: expected.sent, rejected: expected.rejected });
  const landed = await landedFor(row.id);
  expect(landed.length).toBe(expected.sent);
  const summary = result.exitCode === 0 ? parseJsonOutput<ProduceSummary>(result) : undefined;
  if (summary) expect({ sent: summary.sent, rejected: summary.rejected }).toEqual({ sent: expected.sent, rejected: expected.rejected });
  return { result, row, landed, summary };
}

/** Writes a file made of parts without building it as one string (the big cases). */
function writeParts(path: string, parts: Array<string | Uint8Array>): string {
  writeFileSync(path, Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part))));
  return path;
}

/**
 * Runs the binary under /usr/bin/time -v when it exists (peak RSS from the kernel's rusage), else
 * polls /proc/<pid>/status for VmHWM. Returns the result and the peak resident set in bytes.
 */
async function runMeasured(args: string[]): Promise<RunResult & { peakRssBytes: number }> {
  // time's report goes to a file: written after kstream's on a pipe kstream may have made
  // non-blocking, it can be cut short (and time then exits 1)
  const report = ws.path("time-report.txt");
  const timeTool = existsSync("/usr/bin/time") ? ["/usr/bin/time", "-v", "-o", report] : [];
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.KSTREAM_CONFIG;
  const child = Bun.spawn([...timeTool, KSTREAM_BIN, ...args, "--config", ws.configPath], { cwd: ws.dir, env, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  let polledKb = 0;
  const poller =
    timeTool.length === 0
      ? setInterval(() => {
          try {
            const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
            if (match) polledKb = Math.max(polledKb, Number(match[1]));
          } catch {
            // the process has just ended
          }
        }, 20)
      : undefined;
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  if (poller) clearInterval(poller);
  const peakKb = timeTool.length > 0 ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(report, "utf8"))?.[1] ?? 0) : polledKb;
  return { stdout, stderr, exitCode, peakRssBytes: peakKb * 1024 };
}

describe("hostile input: produce", () => {
  test("a truncated array file publishes the whole elements before the cut and stops with exit 1 at file:line:column", async () => {
    const { result, row } = await produceAndCount(fixture("truncated.json"), { exitCode: 1, sent: 2, rejected: 0, status: "failed" });
    expect(errorLines(result)).toEqual([expect.stringMatching(/truncated\.json:4:\d+: unexpected end of input/)]);
    expect(row.error).toContain("truncated.json:4:");
  });

  test("a number cut by the end of an array file is not published as if it were whole", async () => {
    const { result, landed } = await produceAndCount(fixture("truncated-number.json"), { exitCode: 1, sent: 1, rejected: 0, status: "failed" });
    expect(errorLines(result)).toEqual([expect.stringMatching(/truncated-number\.json:2:5: .*not closed/)]);
    expect(landed.map((message) => message.payload)).toEqual(['{"id":1}']);
  });

  test("an array that never closes publishes its elements and stops with exit 1 at the end of the file", async () => {
    const { result, landed } = await produceAndCount(fixture("unclosed.json"), { exitCode: 1, sent: 2, rejected: 0, status: "failed" });
    expect(errorLines(result)).toEqual([expect.stringMatching(/unclosed\.json:3:1: unexpected end of input/)]);
    expect(landed.map((message) => message.payload).sort()).toEqual(['{"id":1}', '{"id":2}']);
  });

  test("invalid UTF-8 rejects each NDJSON line by number and column, and publishes the valid lines byte for byte", async () => {
    const { summary, landed } = await produceAndCount(fixture("invalid-utf8.ndjson"), { exitCode: 0, sent: 2, rejected: 5, status: "completed" });
    expect(summary!.rejections.map((rejection) => rejection.line)).toEqual([2, 3, 4, 5, 6]);
    expect(summary!.rejections.slice(0, 4).every((rejection) => /^column \d+: invalid UTF-8/.test(rejection.reason))).toBe(true);
    expect(landed.map((message) => message.payload).sort()).toEqual(['{"id":1,"country":"France"}', '{"id":7,"country":"Côte d\'Ivoire"}']);
  });

  test("invalid UTF-8 in an array file stops with exit 1 at its line and column, after the elements before it", async () => {
    const { result } = await produceAndCount(fixture("invalid-utf8.json"), { exitCode: 1, sent: 1, rejected: 0, status: "failed" });
    expect(errorLines(result)).toEqual([expect.stringMatching(/invalid-utf8\.json:2:22: invalid UTF-8/)]);
  });

  test("NUL bytes in strings, between tokens or as a whole line are rejected; an escaped \\u0000 is data", async () => {
    const { summary, landed } = await produceAndCount(fixture("nul-bytes.ndjson"), { exitCode: 0, sent: 3, rejected: 3, status: "completed" });
    expect(summary!.rejections.map((rejection) => rejection.line)).toEqual([2, 3, 4]);
    expect(summary!.rejections.every((rejection) => rejection.reason.includes("U+0000"))).toBe(true);
    expect(landed.map((message) => message.payload).sort()).toEqual(['{"id":1}', '{"id":4,"first_name":"a\\u0000b"}', '{"id":5}']);
  });

  test("an empty file and a blank file publish nothing, reject nothing and exit 0", async () => {
    for (const name of ["empty.json", "blank.ndjson"]) await produceAndCount(fixture(name), { exitCode: 0, sent: 0, rejected: 0, status: "completed" });
    // stdin with nothing on it is the same empty input
    const fromStdin = await run(["produce", "-", "--json"], { stdin: "" });
    expectNoCrash(fromStdin);
    expect(parseJsonOutput<ProduceSummary>(fromStdin)).toMatchObject({ status: "completed", sent: 0, rejected: 0 });
  });

  test("__proto__ and constructor keys are published unchanged; a nested id is not the message key", async () => {
    const { landed } = await produceAndCount(fixture("proto-keys.ndjson"), { exitCode: 0, sent: 4, rejected: 0, status: "completed" });
    const keys = new Map(landed.map((message) => [message.payload, message.key]));
    expect(keys.get('{"__proto__":{"id":5}}')).toBeNull();
    expect([...keys.values()].filter((key) => key !== null).sort()).toEqual(["1", "2", "3"]);
  });

  test("numbers beyond 2^53 are published exactly as written, keys included", async () => {
    const { landed } = await produceAndCount(fixture("big-numbers.ndjson"), { exitCode: 0, sent: 9, rejected: 0, status: "completed" });
    const byPayload = new Map(landed.map((message) => [message.payload, message.key]));
    expect(byPayload.get('{"id":9007199254740993}')).toBe("9007199254740993");
    expect(byPayload.get('{"id":1152921504606846977}')).toBe("1152921504606846977");
    expect(byPayload.get('{"id":123456789012345678901234567890}')).toBe("123456789012345678901234567890");
    expect(byPayload.has('{"id":4,"x":1e999999,"y":-0.0}')).toBe(true);
  });

  test("100 000 levels of nesting are published when closed and rejected when not, without a stack overflow", async () => {
    const depth = 100_000;
    const path = writeParts(ws.path("deep.ndjson"), [
      '{"id":1}\n',
      `${"[".repeat(depth)}${"]".repeat(depth)}\n`,
      `{"id":2,"x":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}\n`,
      `{"id":3,"x":${"[".repeat(depth)}\n`,
      `{"id":${"[".repeat(depth)}1${"]".repeat(depth)}}\n`,
    ]);
    const { summary } = await produceAndCount(path, { exitCode: 0, sent: 4, rejected: 1, status: "completed" });
    expect(summary!.rejections).toEqual([{ line: 4, reason: expect.stringMatching(/end of input/) }]);
  });

  test("a record larger than the topic's max.message.bytes is rejected with its line; the records around it land", async () => {
    const big = `{"id":2,"first_name":"${"x".repeat(1_500_000)}"}`;
    const ndjson = writeParts(ws.path("too-big.ndjson"), ['{"id":1}\n', big, '\n{"id":3}\n']);
    const { summary, landed } = await produceAndCount(ndjson, { exitCode: 0, sent: 2, rejected: 1, status: "completed" });
    expect(summary!.rejections).toEqual([{ line: 2, reason: expect.stringMatching(/\d{7} bytes, larger than the topic accepts \(max\.message\.bytes \d+\)/) }]);
    expect(landed.map((message) => message.payload).sort()).toEqual(['{"id":1}', '{"id":3}']);

    // in an array the same element is rejected too: it is valid JSON, so the run goes on
    const array = writeParts(ws.path("too-big.json"), ['[{"id":1},\n', big, ',\n{"id":3}]\n']);
    const fromArray = await produceAndCount(array, { exitCode: 0, sent: 2, rejected: 1, status: "completed" });
    expect(fromArray.summary!.rejections.map((rejection) => rejection.line)).toEqual([2]);
  });

  test("a record just under the limit lands whole, in a request of its own", async () => {
    // small records first, so a batch is pending when the big one comes: together they would pass the limit
    const small = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: 100 + i, email: `u${i}@x.io`, pad: "p".repeat(2000) }));
    const near = `{"id":99,"first_name":"${"n".repeat(1_000_000)}"}`;
    const path = writeParts(ws.path("near-limit.ndjson"), [`${small.join("\n")}\n`, near, "\n"]);
    const { landed } = await produceAndCount(path, { exitCode: 0, sent: 201, rejected: 0, status: "completed" });
    expect(landed.some((message) => message.payload === near)).toBe(true);
  });

  test("a 100 MB single line is rejected with its line number, the lines around it land, and peak memory stays under 1 GB", async () => {
    const path = writeParts(ws.path("huge-line.ndjson"), [
      '{"id":1}\n{"id":2,"first_name":"',
      new Uint8Array(100 * 1024 * 1024).fill(0x78),
      '"}\n{"id":3}\n',
    ]);
    const result = await runMeasured(["produce", path, "--json"]);
    rmSync(path);
    expectNoCrash(result);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
    const summary = parseJsonOutput<ProduceSummary>(result);
    expect(summary).toMatchObject({ status: "completed", sent: 2, rejected: 1 });
    expect(summary.rejections).toEqual([{ line: 2, reason: expect.stringMatching(/larger than the topic accepts/) }]);
    expect((await landedFor(summary.run_id!)).map((message) => message.payload).sort()).toEqual(['{"id":1}', '{"id":3}']);
    console.log(`peak RSS of produce reading a 100 MB line: ${Math.round(result.peakRssBytes / 1024 / 1024)} MB`);
    expect(result.peakRssBytes).toBeGreaterThan(0);
    expect(result.peakRssBytes).toBeLessThan(MAX_RSS_BYTES);
  });
});

describe("hostile input: stream-clean", () => {
  test("bytes no producer of ours would send (invalid UTF-8, NUL, a tombstone, not JSON) go straight onto the topic", async () => {
    // kcat writes them as they are: stream-clean must dead-letter each one, not crash
    const values = ["\xff\xfe{\"id\":1}", "{\"id\":2,\"x\":\"\x00\"}", "\x00\x00\x00", "{\"id\":3", "[1,2", "not json at all"];
    // on stdin: kcat sends a file named as an argument as one message
    const raw = Buffer.from(values.join("\u0001"), "latin1");
    const kcat = Bun.spawn(["kcat", "-b", BROKER, "-P", "-t", ws.topics.input, "-D", "\u0001", "-p", "0"], { stdin: new Blob([raw]), stdout: "ignore", stderr: "pipe" });
    expect(await kcat.exited).toBe(0);
    // a tombstone: a key and no value (-Z sends an empty value as NULL)
    const tombstone = Bun.spawn(["kcat", "-b", BROKER, "-P", "-t", ws.topics.input, "-p", "1", "-K", ":", "-Z"], { stdin: new Blob(["tomb:\n"]), stdout: "ignore", stderr: "pipe" });
    expect(await tombstone.exited).toBe(0);
  });

  test("stream-clean turns the whole corpus into rows and dead letters: every input offset exactly once, nothing dropped", async () => {
    const result = await run(["stream-clean", "--until-caught-up", "--json"]);
    expectNoCrash(result);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
    const summary = parseJsonOutput<{ read: number; cleaned: number; dead_lettered: number }>(result);

    const report = await checkExactlyOnce(ws.topics, ws.path("out", "parquet"));
    expect(report).toMatchObject({ lost: [], duplicatedInParquet: [], duplicatedInStaging: [], duplicatedInDeadLetters: [], stagingWithoutRow: [], rowWithoutStaging: [] });
    expect(report.parquetRows + report.deadLetters).toBe(report.input);
    expect(summary.read).toBe(report.input);
    expect(summary.cleaned).toBe(report.parquetRows);
    expect(summary.dead_lettered).toBe(report.deadLetters);

    // where the hostile records ended up, and why
    const input = await kcatConsume(ws.topics.input);
    const deadLetters = await kcatConsume(ws.topics.dead_letter);
    const reasonAt = new Map(deadLetters.map((m) => [`${headerValue(m, "kstream-source-partition")}:${headerValue(m, "kstream-source-offset")}`, headerValue(m, "kstream-error")]));
    const fate = (payload: string | null) => {
      const source = input.find((message) => message.payload === payload);
      if (!source) return "not on the topic";
      return reasonAt.get(`${source.partition}:${source.offset}`) ?? "row";
    };
    expect(fate('{"id":9007199254740991}')).toBe("row");
    for (const id of ["9007199254740992", "9007199254740993", "-9007199254740993", "1152921504606846977", '"9007199254740993"', "1e400", "123456789012345678901234567890"]) {
      expect(`${id}: ${fate(`{"id":${id}}`)}`).toBe(`${id}: invalid_id`);
    }
    expect(fate('{"__proto__":{"id":5}}')).toBe("invalid_id");
    expect(fate(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toBe("not_an_object");
    expect(fate(`{"id":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`)).toBe("invalid_id");
    expect(fate("not json at all")).toBe("invalid_json");
    expect(fate("\x00\x00\x00")).toBe("invalid_json");
    expect(fate(null)).toBe("invalid_json"); // the tombstone

    // __proto__ data never became fields; a "__proto__" string is just text
    const rows = await readParquetRows(ws.path("out", "parquet"));
    expect(rows.filter((row) => row.email === "evil@x.io" || row.country === "Evil" || row.first_name === "evil")).toEqual([]);
    expect(rows.filter((row) => row.country === "__proto__")).toEqual([expect.objectContaining({ id: 2, first_name: "constructor", email: "tostring" })]);
    expect(rows.filter((row) => row.id === 9007199254740991).length).toBe(1);
  });

  test("recon accounts for every run of the corpus, failed runs included: exit 0", async () => {
    const result = await run(["recon", "--all"]);
    expectNoCrash(result);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
  });
});

describe("hostile input: a record at the topic's limit", () => {
  test("written by another producer, it is dead-lettered whole: the dead-letter topic has room for the added headers", async () => {
    // Another producer (kcat) may write a record up to the input topic's limit; its dead letter
    // carries ~300 bytes more headers, so kstream creates the dead-letter topic 64 KiB larger.
    const own = createWorkspace("hostile-dlq");
    try {
      writeFileSync(own.path("one.ndjson"), '{"id":1}\n');
      expect((await own.run(["produce", own.path("one.ndjson")], { timeoutMs: RUN_TIMEOUT_MS })).exitCode).toBe(0);
      const near = `{"first_name":"${"q".repeat(1_048_440)}"}`;
      writeFileSync(own.path("near.json"), near);
      const kcat = Bun.spawn(["kcat", "-b", BROKER, "-P", "-t", own.topics.input, "-p", "0", "-X", "message.max.bytes=2000000", own.path("near.json")], {
        stdout: "ignore",
        stderr: "pipe",
      });
      expect(await kcat.exited).toBe(0);
      const result = await own.run(["stream-clean", "--until-caught-up"], { timeoutMs: RUN_TIMEOUT_MS });
      expectNoCrash(result);
      expect(result.exitCode).toBe(0);
      const deadLetters = await kcatConsume(own.topics.dead_letter);
      expect(deadLetters.map((m) => [headerValue(m, "kstream-error"), m.payload?.length])).toEqual([["invalid_id", near.length]]);
    } finally {
      rmSync(own.dir, { recursive: true, force: true });
    }
  });
});
