import { describe, expect, test } from "bun:test";
import { LedgerError } from "../../../src/errors.ts";
import { createSendPath } from "../../../src/produce/send-path.ts";
import { journalEntries, settleRun } from "../../../src/produce/settle.ts";
import { setVerbosity } from "../../../src/ui/log.ts";
import { fakeBroker, fakeLedger, messagesFor, partitionOf } from "./fakes.ts";

setVerbosity({ quiet: true });

const run = { runId: "run-1", topic: "in", brokers: "b:9092", startOffsets: new Map([[0, 100], [1, 7]]) };

/** A send path whose failed request was acknowledged for partition 0 at 100 (owed to the ledger) and left partition 1 in doubt. */
async function pathWithOwed(ledger: ReturnType<typeof fakeLedger>) {
  const broker = fakeBroker((call, partition) => (call > 1 ? "fail" : partition === 0 ? 100 : undefined));
  const path = createSendPath(run, { request: broker.request, partitionOf, ledger: ledger.ledger });
  expect(path.send(messagesFor(0, 1))).rejects.toThrow("1 records sent without an answer are in doubt");
  await Bun.sleep(0);
  expect(path.owed.unrecorded).toHaveLength(1);
  return path;
}

describe("settling a producer run", () => {
  test("a run settles by recording what is owed, its requests in doubt again, and its final status", async () => {
    const fake = fakeLedger();
    const path = await pathWithOwed(fake);
    fake.writes.length = 0;
    settleRun(fake.ledger, path, { runId: "run-1", topic: "in", final: { name: "failed", error: "produce failed" } });
    expect(fake.writes).toEqual([
      { call: "recordAcks", topic: "in", acks: [{ partition: 0, firstOffset: 100, count: 1 }] },
      { call: "recordInDoubt", entries: [{ topic: "in", partition: 1, from_offset: 7, count: 1 }] },
      { call: "finishRun", status: "failed", error: "produce failed" },
    ]);
  });

  test("a completed run is finished without an error", () => {
    const fake = fakeLedger();
    const path = createSendPath(run, { request: fakeBroker(() => 0).request, partitionOf, ledger: fake.ledger });
    settleRun(fake.ledger, path, { runId: "run-1", topic: "in", final: { name: "completed" } });
    expect(fake.writes).toEqual([{ call: "finishRun", status: "completed", error: undefined }]);
  });

  test("acknowledgements a locked ledger refuses go to the journal with the status, and the error says where", async () => {
    const fake = fakeLedger();
    const path = await pathWithOwed(fake);
    fake.refuse.recordAcks = true;
    const error = (() => {
      try {
        settleRun(fake.ledger, path, { runId: "run-1", topic: "in", final: { name: "completed" } });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(LedgerError);
    expect(error!.message).toContain("1 acknowledged records and the run's status are kept in /ledger.db.unrecorded.ndjson");
    const journal = fake.writes.find((write) => write.call === "keepForLater");
    // The in-doubt row was never recorded again, so the journal keeps it too.
    expect(journal?.entries.map((entry) => entry.kind)).toEqual(["ack", "in-doubt", "finish"]);
    expect(journal?.entries.at(-1)).toMatchObject({ kind: "finish", status: "completed", error: expect.stringContaining("locked") });
  });

  test("a status the ledger refuses after the owed acknowledgements and in-doubt rows went in journals only the status", async () => {
    const fake = fakeLedger({ finishRun: true });
    const path = await pathWithOwed(fake);
    expect(() => settleRun(fake.ledger, path, { runId: "run-1", topic: "in", final: { name: "interrupted" } })).toThrow("the run's status is kept in");
    const journal = fake.writes.find((write) => write.call === "keepForLater");
    expect(journal?.entries.map((entry) => entry.kind)).toEqual(["finish"]);
  });

  test("when the journal cannot be written either, the error lists the acknowledged ranges left uncounted", async () => {
    const fake = fakeLedger();
    const path = await pathWithOwed(fake);
    fake.refuse.recordAcks = true;
    fake.refuse.keepForLater = true;
    expect(() => settleRun(fake.ledger, path, { runId: "run-1", topic: "in", final: { name: "completed" } })).toThrow(
      "1 acknowledged records of run run-1 on in are not counted: partition 0 offsets 100-100",
    );
  });

  test("journal entries are the acknowledgements, the requests in doubt and the final status, in that order", () => {
    const entries = journalEntries({
      runId: "r",
      topic: "t",
      final: { name: "failed", error: "boom" },
      unrecorded: [{ partition: 2, firstOffset: 5, count: 3 }],
      inDoubt: [{ topic: "t", partition: 1, from_offset: 9, count: 4 }],
      error: "boom",
      now: new Date("2024-01-02T03:04:05.000Z"),
    });
    expect(entries).toEqual([
      { kind: "ack", run_id: "r", topic: "t", partition: 2, first_offset: 5, count: 3 },
      { kind: "in-doubt", run_id: "r", topic: "t", partition: 1, from_offset: 9, count: 4 },
      { kind: "finish", run_id: "r", status: "failed", finished_at: "2024-01-02T03:04:05.000Z", error: "boom" },
    ]);
  });
});
