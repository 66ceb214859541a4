import { describe, expect, test } from "bun:test";
import type { CrashPoint } from "../../../src/faults.ts";
import { createLocalCleaner } from "../../../src/stream/cleaner.ts";
import { MAX_SEND_BYTES } from "../../../src/stream/outbox.ts";
import { PartitionCycle } from "../../../src/stream/partition-cycle.ts";
import type { CycleSettings, StreamCounters } from "../../../src/stream/types.ts";
import { FakeProducer, FakeSink, connectionClosed, fenced, messages } from "./fakes.ts";

/** Enough of the fakes' messages (a staging message counts about 230 bytes) for three sends or more. */
const THREE_SENDS = Math.ceil((3 * MAX_SEND_BYTES.staging) / 200);

const settings: CycleSettings = {
  groupId: "g",
  inputTopic: "input",
  stagingTopic: "staging",
  deadLetterTopic: "dead",
  fileMaxRows: 1_000_000,
  fileMaxAgeMs: 60_000,
  rules: { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy"], windowMs: 300_000 },
};

function setUp(options: { committedOffset?: bigint; fileMaxRows?: number; readUpTo?: Map<number, bigint>; crashAt?: CrashPoint } = {}) {
  const log: string[] = [];
  const producer = new FakeProducer(log);
  const sink = new FakeSink(log);
  const counters: StreamCounters = { read: 0, read_again: 0, cleaned: 0, dead_lettered: 0, files: 0, commits: 0 };
  let clock = 1_000;
  const events: string[] = [];
  const cycle = new PartitionCycle({
    partition: 3,
    settings: { ...settings, fileMaxRows: options.fileMaxRows ?? settings.fileMaxRows },
    producer,
    cleaner: createLocalCleaner({ sink, partition: 3, rules: settings.rules, stagingPartitions: 4 }),
    committedOffset: options.committedOffset ?? 0n,
    counters,
    readUpTo: options.readUpTo ?? new Map(),
    partitionCounts: { staging: 4, deadLetter: 2 },
    events: {
      deadLettered: (reason) => events.push(`dead ${reason}`),
      committed: (seconds, written) => events.push(`committed ${seconds}s ${written.files} files ${written.bytes} bytes`),
      aborted: (reason) => events.push(`aborted ${reason}`),
    },
    now: () => clock,
    crashPoint: (point) => {
      if (point === options.crashAt) throw Object.assign(new Error(`injected at ${point}`), { retriable: true });
    },
  });
  return { cycle, producer, sink, counters, log, events, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe("a partition cycle", () => {
  test("starts idle at the committed offset and opens a transaction with its first record", async () => {
    const { cycle, log } = setUp({ committedOffset: 10n });
    expect(cycle.state).toBe("idle");
    expect(cycle.offsetToCommit).toBe(10n);
    await cycle.process(messages(10, 5));
    expect(cycle.state).toBe("open");
    expect(cycle.offsetToCommit).toBe(15n);
    expect(cycle.committedOffset).toBe(10n);
    expect(cycle.bufferedRows).toBe(5);
    expect(log).toEqual(["begin", "send t1"]);
  });

  test("skips records below the offset to commit, delivered again after a rebalance", async () => {
    const { cycle, counters, log } = setUp({ committedOffset: 10n });
    await cycle.process(messages(5, 5));
    expect(cycle.state).toBe("idle");
    expect(counters.read).toBe(0);
    expect(log).toEqual([]);
  });

  test("sends staging messages and dead letters in the open transaction, each to its topic and partition", async () => {
    const { cycle, producer, counters } = setUp();
    await cycle.process(messages(0, 4, new Set([2])));
    const [send] = producer.sent;
    expect(send!.map((t) => [t.topic, t.messages.length])).toEqual([["staging", 3], ["dead", 1]]);
    expect(send![0]!.messages[0]!.headers).toEqual({ "kstream-source-partition": "3", "kstream-source-offset": "0" });
    expect(send![1]!.messages[0]!.partition).toBe(3 % 2);
    expect(counters).toMatchObject({ read: 4, cleaned: 3, dead_lettered: 1, commits: 0 });
  });

  test("ends an open cycle once it is file_max_age old: every send, then Parquet, then offsets and commit", async () => {
    const { cycle, log, counters, advance, now } = setUp();
    await cycle.process(messages(0, 3));
    await cycle.flushIfDue(now());
    expect(cycle.state).toBe("open");
    advance(60_000);
    await cycle.flushIfDue(now());
    expect(log).toEqual(["begin", "send t1", "flush file-1", "sendOffsets 3", "commit t1"]);
    expect(cycle.state).toBe("idle");
    expect(cycle.committedOffset).toBe(3n);
    expect(cycle.bufferedRows).toBe(0);
    expect(counters).toMatchObject({ files: 1, commits: 1 });
  });

  test("a forced flush ends the cycle at once, and an idle cycle has nothing to end", async () => {
    const { cycle, log, now } = setUp();
    await cycle.flushIfDue(now(), true);
    expect(log).toEqual([]);
    await cycle.process(messages(0, 2));
    await cycle.flushIfDue(now(), true);
    expect(log.at(-1)).toBe("commit t1");
  });

  test("file_max_rows ends the cycle mid-batch, and the rest of the batch opens the next transaction", async () => {
    const { cycle, log, producer } = setUp({ fileMaxRows: 3 });
    await cycle.process(messages(0, 5));
    expect(log).toEqual(["begin", "send t1", "flush file-1", "sendOffsets 3", "commit t1", "begin", "send t2"]);
    expect(producer.offsets).toEqual([3n]);
    expect(cycle.committedOffset).toBe(3n);
    expect(cycle.offsetToCommit).toBe(5n);
  });

  test("a cycle cut by file_max_rows inside a cleaned chunk holds exactly the rows of the records it staged", async () => {
    const { cycle, sink } = setUp({ fileMaxRows: 1_500 });
    const flushed: number[] = [];
    const flush = sink.flush.bind(sink);
    sink.flush = async () => {
      flushed.push(sink.rows.length);
      return flush();
    };
    await cycle.process(messages(0, 3_200));
    expect(flushed).toEqual([1_500, 1_500]);
    expect(sink.rows.map((row) => row.source_offset)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(3_000 + i)));
    expect(cycle.bufferedRows).toBe(200);
  });

  test("a batch that stops on an error keeps the rows of the records staged before it, and none cleaned ahead", async () => {
    const { cycle, sink } = setUp({ crashAt: "mid-batch" });
    await expect(cycle.process(messages(0, 2_500))).rejects.toThrow(/injected at mid-batch/);
    expect(sink.rows.map((row) => row.source_offset)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
    expect(cycle.offsetToCommit).toBe(50n);
    await cycle.process(messages(0, 2_500));
    expect(sink.rows.length).toBe(2_500);
    expect(new Set(sink.rows.map((row) => row.source_offset)).size).toBe(2_500);
  });

  test("sends one request at a time: the next send starts only once the previous one is answered", async () => {
    const { cycle, producer, log, now } = setUp();
    producer.holdSends = true;
    await cycle.process(messages(0, THREE_SENDS));
    expect(producer.heldSends).toBe(1);
    const ending = cycle.flushIfDue(now(), true);
    let sends = 0;
    while (!log.includes("commit t1")) {
      expect(producer.heldSends).toBeLessThanOrEqual(1);
      if (producer.heldSends === 1) {
        producer.release();
        sends++;
      }
      await Bun.sleep(1);
    }
    await ending;
    expect(sends).toBeGreaterThanOrEqual(3);
    expect(log.indexOf("flush file-1")).toBeGreaterThan(log.lastIndexOf("send t1"));
  });

  test("each send is prepared when it is queued, while the send before it is still unanswered", async () => {
    const { cycle, producer, now } = setUp();
    producer.holdSends = true;
    await cycle.process(messages(0, THREE_SENDS));
    expect(producer.heldSends).toBe(1);
    expect(producer.sent).toHaveLength(0);
    expect(producer.prepared.length).toBeGreaterThanOrEqual(3);
    const ending = cycle.flushIfDue(now(), true);
    while (producer.sent.length < producer.prepared.length) {
      producer.release();
      await Bun.sleep(1);
    }
    await ending;
    // Exactly what was prepared is sent, in the same order: the same arrays, unchanged.
    expect(producer.sent).toEqual(producer.prepared);
    producer.sent.forEach((send, i) => expect(send).toBe(producer.prepared[i]!));
  });

  test("a send that fails retriably breaks the cycle at its end, before any Parquet is written", async () => {
    const { cycle, producer, sink, now } = setUp();
    producer.failures.set("send", connectionClosed());
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/cannot commit the cycle.*Closed connection/);
    expect(cycle.state).toBe("broken");
    expect(cycle.broken?.retriable).toBe(true);
    expect(sink.written).toEqual([]);
    expect(cycle.committedOffset).toBe(0n);
  });

  test("a commit that fails retriably breaks the cycle and keeps its files", async () => {
    const { cycle, producer, sink, log, now } = setUp();
    producer.failures.set("commit", connectionClosed());
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/cannot commit the cycle \(topic input, partition 3, offset 3\)/);
    expect(cycle.state).toBe("broken");
    expect(cycle.broken).toBeDefined();
    expect(sink.written).toEqual(["file-1"]);
    expect(sink.removed).toEqual([]);
    expect(log).not.toContain("abort t1");
    expect(cycle.committedOffset).toBe(0n);
  });

  test("a broken cycle takes no more records and ends no more cycles", async () => {
    const { cycle, producer, log, now } = setUp();
    producer.failures.set("commit", connectionClosed());
    await cycle.process(messages(0, 3));
    const failure = await cycle.flushIfDue(now(), true).catch((error) => error);
    await expect(cycle.process(messages(3, 1))).rejects.toBe(failure);
    const steps = log.length;
    await cycle.flushIfDue(now(), true);
    expect(log.length).toBe(steps);
  });

  test("a commit refused for good removes the cycle's files, then aborts its transaction", async () => {
    const { cycle, producer, sink, log, now } = setUp();
    producer.failures.set("commit", Object.assign(new Error("disk says no"), { retriable: false }));
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/disk says no/);
    expect(cycle.state).toBe("failed");
    expect(cycle.broken).toBeUndefined();
    expect(sink.removed).toEqual(["file-1"]);
    expect(log.slice(-2)).toEqual(["remove file-1", "abort t1"]);
    await expect(cycle.process(messages(3, 1))).rejects.toThrow(/disk says no/);
  });

  test("a cycle fenced by a newer owner of its transactional id removes its files and is fenced, not failed", async () => {
    const { cycle, producer, sink, log, now } = setUp();
    producer.failures.set("sendOffsets", fenced());
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/fences the current one/);
    expect(cycle.state).toBe("fenced");
    expect(cycle.fenced?.message).toMatch(/fences the current one/);
    expect(cycle.broken).toBeUndefined();
    expect(sink.removed).toEqual(["file-1"]);
    expect(log).not.toContain("commit t1");
    expect(log.at(-1)).toBe("abort t1");
  });

  test("a cycle whose commit kafkajs refused with an old epoch (INVALID_PRODUCER_EPOCH, wrapped) is fenced", async () => {
    const { cycle, producer, now } = setUp();
    const oldEpoch = Object.assign(new Error("Producer attempted an operation with an old epoch"), { name: "KafkaJSProtocolError", type: "INVALID_PRODUCER_EPOCH", code: 47, retriable: false });
    producer.failures.set("commit", Object.assign(new Error("retries exceeded"), { name: "KafkaJSNonRetriableError", originalError: oldEpoch }));
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow();
    expect(cycle.state).toBe("fenced");
  });

  test("a Parquet write that fails for good fails the cycle without a commit", async () => {
    const { cycle, sink, log, now } = setUp();
    sink.flushFailure = new Error("ENOSPC: no space left on device");
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/ENOSPC/);
    expect(cycle.state).toBe("failed");
    expect(cycle.fenced).toBeUndefined();
    expect(log).not.toContain("sendOffsets 3");
    expect(log.at(-1)).toBe("abort t1");
  });

  test("a crash before the rename leaves nothing durable: no file, no offset, no commit", async () => {
    const { cycle, sink, log, now } = setUp({ crashAt: "before-rename" });
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/before-rename/);
    expect(sink.written).toEqual([]);
    expect(log.some((step) => step.startsWith("sendOffsets") || step.startsWith("commit"))).toBe(false);
    expect(cycle.state).toBe("broken");
  });

  test("a crash after the rename leaves the files, uncommitted, for recovery to judge", async () => {
    const { cycle, sink, log, now } = setUp({ crashAt: "after-rename" });
    await cycle.process(messages(0, 3));
    await expect(cycle.flushIfDue(now(), true)).rejects.toThrow(/after-rename/);
    expect(sink.written).toEqual(["file-1"]);
    expect(sink.removed).toEqual([]);
    expect(log.some((step) => step.startsWith("sendOffsets") || step.startsWith("commit"))).toBe(false);
    expect(cycle.state).toBe("broken");
  });

  test("a transaction that cannot begin leaves the cycle idle, so the batch can be tried again", async () => {
    const { cycle, producer, counters } = setUp();
    producer.failures.set("begin", connectionClosed());
    await expect(cycle.process(messages(0, 3))).rejects.toThrow(/cannot begin a transaction/);
    expect(cycle.state).toBe("idle");
    expect(counters.read).toBe(0);
    await cycle.process(messages(0, 3));
    expect(cycle.state).toBe("open");
  });

  test("dropping an open cycle (shutdown, rebalance) forgets its rows, aborts it and goes back to the committed offset", async () => {
    const { cycle, log } = setUp({ committedOffset: 7n });
    await cycle.process(messages(7, 4));
    await cycle.abandon();
    expect(cycle.state).toBe("idle");
    expect(cycle.bufferedRows).toBe(0);
    expect(cycle.offsetToCommit).toBe(7n);
    expect(log.at(-1)).toBe("abort t1");
  });

  test("records read again after a dropped cycle count as read again, not as read", async () => {
    const readUpTo = new Map<number, bigint>();
    const { cycle, counters } = setUp({ readUpTo });
    await cycle.process(messages(0, 4));
    await cycle.abandon();
    await cycle.process(messages(0, 6));
    expect(readUpTo.get(3)).toBe(6n);
    expect(counters).toMatchObject({ read: 6, read_again: 4, cleaned: 6 });
  });

  test("notes when it entered each state, on its clock", async () => {
    const { cycle, advance, now } = setUp();
    expect(cycle.stateSince).toBe(1_000);
    advance(500);
    await cycle.process(messages(0, 2));
    expect(cycle.stateSince).toBe(1_500);
    advance(500);
    await cycle.flushIfDue(now(), true);
    expect([cycle.state, cycle.stateSince]).toEqual(["idle", 2_000]);
  });

  test("a closed cycle disconnects its producer and refuses records", async () => {
    const { cycle, producer } = setUp();
    await cycle.close();
    expect(producer.disconnected).toBe(true);
    expect(cycle.state).toBe("closed");
    await expect(cycle.process(messages(0, 1))).rejects.toThrow(/partition 3: the cycle is closed/);
  });
});

describe("what a partition cycle reports for the process's metrics", () => {
  test("each dead letter of a first read, by reason, and not again when its record is read again", async () => {
    const { cycle, events } = setUp();
    await cycle.process(messages(0, 4, new Set([1, 3])));
    await cycle.abandon();
    await cycle.process(messages(0, 4, new Set([1, 3])));
    expect(events).toEqual(["dead invalid_json", "dead invalid_json", "aborted dropped"]);
  });

  test("a commit, with how long its end took and the files and bytes its flush returned", async () => {
    const { cycle, sink, events, advance, now } = setUp();
    const flush = sink.flush.bind(sink);
    sink.flush = async () => {
      advance(250);
      return (await flush()).map((file) => ({ ...file, bytes: 4096 }));
    };
    await cycle.process(messages(0, 3));
    await cycle.flushIfDue(now(), true);
    expect(events).toEqual(["committed 0.25s 1 files 4096 bytes"]);
  });

  test("an end that fails retriably is aborted in doubt; one refused for good is aborted as refused", async () => {
    const retriable = setUp();
    retriable.producer.failures.set("commit", connectionClosed());
    await retriable.cycle.process(messages(0, 3));
    await retriable.cycle.flushIfDue(retriable.now(), true).catch(() => undefined);
    expect(retriable.events).toEqual(["aborted in_doubt"]);

    const refused = setUp();
    refused.producer.failures.set("commit", fenced());
    await refused.cycle.process(messages(0, 3));
    await refused.cycle.flushIfDue(refused.now(), true).catch(() => undefined);
    expect(refused.events).toEqual(["aborted refused"]);
    expect(refused.cycle.failure?.message).toMatch(/fences the current one/);
  });

  test("dropping a cycle with no open transaction reports nothing", async () => {
    const { cycle, events, now } = setUp();
    await cycle.abandon();
    await cycle.process(messages(0, 2));
    await cycle.flushIfDue(now(), true);
    await cycle.abandon();
    expect(events).toEqual(["committed 0s 1 files 1 bytes"]);
  });
});
