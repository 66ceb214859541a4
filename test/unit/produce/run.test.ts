import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "kafkajs";
import { InputSyntaxError } from "../../../src/errors.ts";
import type { Rejection } from "../../../src/ledger/ledger.ts";
import type { ProduceOptions } from "../../../src/produce/options.ts";
import type { FinalState } from "../../../src/produce/run-state.ts";
import { produceRecords } from "../../../src/produce/run.ts";
import { openDryRunSink, type OpenSink } from "../../../src/produce/sink.ts";
import { setVerbosity } from "../../../src/ui/log.ts";

setVerbosity({ quiet: true });

const dir = mkdtempSync(join(tmpdir(), "kstream-produce-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function inputFile(text: string): string {
  const path = join(dir, `input-${++files}.json`);
  writeFileSync(path, text);
  return path;
}

const options = (scanInWorker: boolean, source: string, more: Partial<ProduceOptions> = {}): ProduceOptions => ({
  source,
  scanInWorker,
  limit: undefined,
  producer: "test",
  topic: "in",
  rate: 0,
  batchSize: 2,
  ...more,
});

/** A sink that acknowledges every request at once, or fails the n-th; it logs what it was given. */
function fakeSink({ maxMessageBytes = 1_000_000, failRequest = 0, partitions = 1 } = {}) {
  let placed = 0;
  const requests: Message[][] = [];
  const rejections: Rejection[] = [];
  const closed: FinalState[] = [];
  let acknowledged = 0;
  let failure: Error | undefined;
  const open: OpenSink = async () => ({
    kind: "kafka",
    runId: "run-1",
    maxMessageBytes,
    inFlight: 0,
    // Round-robin, like Kafka's partitioner for keyless messages.
    partitionOf: () => placed++ % partitions,
    get acknowledged() {
      return acknowledged;
    },
    reject: (rejection) => rejections.push(rejection),
    async send(messages) {
      if (failure) throw failure;
      requests.push(messages);
      if (requests.length === failRequest) failure = new Error("produce failed: brokers gone");
      else acknowledged += messages.length;
    },
    async drain() {
      if (failure) throw failure;
    },
    async close(final) {
      closed.push(final);
    },
  });
  return { open, requests, rejections, closed };
}

const values = (requests: Message[][]) => requests.map((request) => request.map((message) => String(message.value)));

// Every behaviour holds whether the file is scanned on this thread or on the scan worker.
for (const scanInWorker of [false, true]) describe(`the produce loop, input scanned ${scanInWorker ? "on the scan worker" : "on this thread"}`, () => {
  test("elements go in requests of batch_size, and the run completes once the last is acknowledged", async () => {
    const sink = fakeSink();
    const summary = await produceRecords(options(scanInWorker, inputFile('{"id":1}\n{"id":2}\n{"id":"x"}\n{"a":3}\n{"a":4}\n')), sink.open);
    expect(values(sink.requests)).toEqual([['{"id":1}', '{"id":2}'], ['{"id":"x"}', '{"a":3}'], ['{"a":4}']]);
    expect(sink.requests[0]!.map((message) => String(message.key))).toEqual(["1", "2"]);
    expect(sink.requests[2]![0]!.key).toBeNull();
    expect(sink.closed).toEqual([{ name: "completed" }]);
    expect(summary).toMatchObject({ run_id: "run-1", status: "completed", sent: 5, rejected: 0, producer: "test", topic: "in" });
  });

  test("each partition's share of a request is bounded by its bytes, so a request to three partitions carries three bounds' worth", async () => {
    // 100,000-byte elements: five fit one partition's 512 KiB, the sixth for it starts a new request.
    const element = `{"s":"${"x".repeat(100_000 - 8)}"}`;
    const lines = Array.from({ length: 16 }, () => element).join("\n");
    const spread = fakeSink({ partitions: 3 });
    await produceRecords(options(scanInWorker, inputFile(lines), { batchSize: 100 }), spread.open);
    expect(spread.requests.map((request) => request.length)).toEqual([15, 1]);
    expect(spread.requests[0]!.map((message) => message.partition)).toEqual(Array.from({ length: 15 }, (_, index) => index % 3));
    const onePartition = fakeSink({ partitions: 1 });
    await produceRecords(options(scanInWorker, inputFile(lines), { batchSize: 100 }), onePartition.open);
    expect(onePartition.requests.map((request) => request.length)).toEqual([5, 5, 5, 1]);
  });

  test("a bad NDJSON line is rejected with its line number and the other lines are still published", async () => {
    const sink = fakeSink();
    const summary = await produceRecords(options(scanInWorker, inputFile('{"a":1}\nnot json\n{"a":2}\n')), sink.open);
    expect(sink.rejections).toEqual([{ line: 2, reason: expect.any(String) }]);
    expect(summary.rejections).toEqual(sink.rejections);
    expect(summary).toMatchObject({ sent: 2, rejected: 1 });
  });

  test("--limit publishes at most that many records", async () => {
    const sink = fakeSink();
    const summary = await produceRecords(options(scanInWorker, inputFile('{"a":1}\n{"a":2}\n{"a":3}\n'), { limit: 2 }), sink.open);
    expect(values(sink.requests).flat()).toEqual(['{"a":1}', '{"a":2}']);
    expect(summary.status).toBe("completed");
  });

  test("an element larger than the topic accepts is rejected like a bad line, and the run goes on", async () => {
    const sink = fakeSink({ maxMessageBytes: 1300 });
    const big = `{"s":"${"x".repeat(400)}"}`;
    const summary = await produceRecords(options(scanInWorker, inputFile(`{"a":1}\n${big}\n{"a":2}\n`)), sink.open);
    expect(sink.rejections).toEqual([{ line: 2, reason: expect.stringContaining("larger than the topic accepts (max.message.bytes 1300)") }]);
    expect(summary).toMatchObject({ sent: 2, rejected: 1 });
  });

  test("a syntax error in an array publishes the good prefix, settles the run failed and is thrown", async () => {
    const sink = fakeSink();
    const error = await produceRecords(options(scanInWorker, inputFile('[{"a":1},\n{"a":2},\n{"a":'), { batchSize: 10 }), sink.open).catch((caught) => caught);
    expect(error).toBeInstanceOf(InputSyntaxError);
    expect(values(sink.requests)).toEqual([['{"a":1}', '{"a":2}']]);
    expect(sink.closed).toEqual([{ name: "failed", error: error.message }]);
  });

  test("a failed request stops the run, which is settled failed with the request's error", async () => {
    const sink = fakeSink({ failRequest: 1 });
    const error = await produceRecords(options(scanInWorker, inputFile('{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n')), sink.open).catch((caught) => caught);
    expect(error.message).toBe("produce failed: brokers gone");
    expect(sink.requests).toHaveLength(1);
    expect(sink.closed).toEqual([{ name: "failed", error: "produce failed: brokers gone" }]);
  });

  test("a dry run counts every element, publishes nothing and says dry-run", async () => {
    const summary = await produceRecords(options(scanInWorker, inputFile('{"a":1}\n{"a":2}\n{"a":3}\nnope\n')), openDryRunSink);
    expect(summary).toMatchObject({ run_id: null, status: "dry-run", sent: 3, rejected: 1 });
  });
});
