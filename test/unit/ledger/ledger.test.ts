import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Database } from "bun:sqlite";
import { LedgerError } from "../../../src/errors.ts";
import { appendToJournal, claimJournal, journalPath, readJournalFiles } from "../../../src/ledger/journal.ts";
import { heartbeatEveryMs, MAX_REJECTION_DETAILS, openLedger } from "../../../src/ledger/ledger.ts";
import { migrate } from "../../../src/ledger/migrations.ts";
import { tempRoot } from "../helpers.ts";

const root = tempRoot("ledger");

const run = { id: "run-1", producer: "p", source: "in.ndjson", topic: "t" };

describe("ledger", () => {
  test("a new run is 'running' with zero counts until it is finished", () => {
    const ledger = openLedger(join(root, "a", "ledger.db"));
    ledger.startRun(run);
    expect(ledger.getRun("run-1")).toMatchObject({ status: "running", sent: 0, rejected: 0, finished_at: null });
    ledger.finishRun("run-1", "completed");
    expect(ledger.getRun("run-1")?.status).toBe("completed");
    expect(ledger.getRun("run-1")?.finished_at).not.toBeNull();
    ledger.close();
  });

  test("adjacent acknowledgements of a partition merge into one offset range", () => {
    const ledger = openLedger(join(root, "b.db"));
    ledger.startRun(run);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 10 }]);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 10, count: 5 }]);
    ledger.recordAcks("run-1", "t", [{ partition: 1, firstOffset: 100, count: 3 }]);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 20, count: 2 }]); // a gap: another producer wrote 15..19
    expect(ledger.offsetRanges("run-1")).toEqual([
      { topic: "t", partition: 0, first_offset: 0, last_offset: 14, count: 15 },
      { topic: "t", partition: 0, first_offset: 20, last_offset: 21, count: 2 },
      { topic: "t", partition: 1, first_offset: 100, last_offset: 102, count: 3 },
    ]);
    expect(ledger.getRun("run-1")?.sent).toBe(20);
    ledger.close();
  });

  test("counts survive the process without a finish: a crashed run still says running with what was acknowledged", () => {
    const path = join(root, "crash.db");
    const first = openLedger(path);
    first.startRun(run);
    first.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 7 }]);
    // no finishRun, no close: as after kill -9
    const reopened = openLedger(path);
    expect(reopened.getRun("run-1")).toMatchObject({ status: "running", sent: 7 });
    reopened.close();
  });

  test("rejections are all counted, details are kept up to the cap", () => {
    const ledger = openLedger(join(root, "rej.db"));
    ledger.startRun(run);
    for (let line = 1; line <= MAX_REJECTION_DETAILS + 3; line++) ledger.recordRejection("run-1", { line, reason: "bad" });
    expect(ledger.getRun("run-1")?.rejected).toBe(MAX_REJECTION_DETAILS + 3);
    expect(ledger.rejections("run-1").length).toBe(MAX_REJECTION_DETAILS);
    ledger.close();
  });

  test("latest run overall and per producer", () => {
    const ledger = openLedger(join(root, "latest.db"));
    ledger.startRun({ ...run, id: "r1", producer: "a" });
    ledger.startRun({ ...run, id: "r2", producer: "b" });
    ledger.startRun({ ...run, id: "r3", producer: "a" });
    expect(ledger.latestRun()?.id).toBe("r3");
    expect(ledger.latestRun("b")?.id).toBe("r2");
    expect(ledger.latestRun("nobody")).toBeUndefined();
    expect(ledger.listRuns().map((r) => r.id)).toEqual(["r1", "r2", "r3"]);
    ledger.close();
  });

  test("a database locked by another process fails with a LedgerError that says so", () => {
    const path = join(root, "locked.db");
    const ledger = openLedger(path, { busyTimeoutMs: 50 });
    ledger.startRun(run);
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    expect(() => ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 1 }])).toThrow(LedgerError);
    expect(() => ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 1 }])).toThrow(/locked by another process/);
    other.exec("ROLLBACK");
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 1 }]);
    expect(ledger.getRun("run-1")?.sent).toBe(1);
    other.close();
    ledger.close();
  });

  test("a path that cannot hold a database fails with a LedgerError naming it", () => {
    const file = join(root, "not-a-dir");
    writeFileSync(file, "x");
    expect(() => openLedger(join(file, "ledger.db"))).toThrow(LedgerError);
    expect(() => openLedger(join(file, "ledger.db"))).toThrow(file);
  });
});

describe("ledger shared by two processes", () => {
  test("two writers interleaving acknowledgements both succeed (no failure on a stale read snapshot)", async () => {
    const path = join(root, "shared.db");
    const setup = openLedger(path);
    setup.startRun({ ...run, id: "a" });
    setup.startRun({ ...run, id: "b" });
    setup.close();
    const script = (id: string) =>
      `import { openLedger } from "${join(import.meta.dir, "../../../src/ledger/ledger.ts")}";
       const l = openLedger(${JSON.stringify(path)});
       for (let i = 0; i < 400; i++) l.recordAcks("${id}", "t", [{ partition: 0, firstOffset: i * 10, count: 10 }]);
       l.close();`;
    const children = ["a", "b"].map((id) => Bun.spawn([process.execPath, "-e", script(id)], { stderr: "pipe" }));
    const codes = await Promise.all(children.map((child) => child.exited));
    const errors = await Promise.all(children.map((child) => new Response(child.stderr).text()));
    expect({ codes, errors }).toEqual({ codes: [0, 0], errors: ["", ""] });
    const check = openLedger(path);
    expect(check.getRun("a")?.sent).toBe(4000);
    expect(check.getRun("b")?.sent).toBe(4000);
    check.close();
  });
});

describe("ledger journal (what a held database would not take)", () => {
  test("kept acknowledgements and the final status are added by the next open, and the journal is removed", () => {
    const path = join(root, "journal", "ledger.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 10 }]);
    const kept = ledger.keepForLater([
      { kind: "ack", run_id: "run-1", topic: "t", partition: 0, first_offset: 10, count: 5 },
      { kind: "ack", run_id: "run-1", topic: "t", partition: 2, first_offset: 40, count: 3 },
      { kind: "finish", run_id: "run-1", status: "failed", finished_at: "2026-11-25T10:00:00.000Z", error: "ledger locked" },
    ]);
    expect(kept).toBe(journalPath(path));
    ledger.close();

    const reopened = openLedger(path);
    expect(existsSync(kept)).toBe(false);
    expect(reopened.getRun("run-1")).toMatchObject({ status: "failed", sent: 18, error: "ledger locked" });
    expect(reopened.offsetRanges("run-1")).toEqual([
      { topic: "t", partition: 0, first_offset: 0, last_offset: 14, count: 15 },
      { topic: "t", partition: 2, first_offset: 40, last_offset: 42, count: 3 },
    ]);
    reopened.close();
  });

  test("folding the same journal twice (a crash before it was removed) counts nothing twice and keeps the first status", () => {
    const path = join(root, "journal-twice.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    const entries = [
      { kind: "ack", run_id: "run-1", topic: "t", partition: 1, first_offset: 0, count: 7 },
      { kind: "finish", run_id: "run-1", status: "interrupted", finished_at: "2026-11-25T10:00:00.000Z", error: null },
    ] as const;
    ledger.keepForLater(entries);
    ledger.close();
    openLedger(path).close();
    const journal = journalPath(path);
    writeFileSync(journal, [...entries, { ...entries[1], status: "failed" }].map((entry) => JSON.stringify(entry)).join("\n"));
    const again = openLedger(path);
    expect(again.getRun("run-1")).toMatchObject({ status: "interrupted", sent: 7 });
    expect(again.offsetRanges("run-1")).toEqual([{ topic: "t", partition: 1, first_offset: 0, last_offset: 6, count: 7 }]);
    again.close();
  });

  test("an append whose journal a fold claimed while it wrote writes its lines again, to the journal the next fold reads", () => {
    const path = join(root, "journal-claimed", "ledger.db");
    mkdirSync(dirname(path), { recursive: true });
    const entry = { kind: "ack", run_id: "run-1", topic: "t", partition: 0, first_offset: 0, count: 3 } as const;
    let claimed: string[] = [];
    appendToJournal(path, [entry], () => {
      if (claimed.length === 0) claimed = claimJournal(path); // the fold renames the file just written, perhaps before reading these lines
    });
    expect(claimed).toHaveLength(1);
    expect(readJournalFiles(claimed)).toEqual([entry]);
    expect(readJournalFiles([journalPath(path)])).toEqual([entry]);
  });

  test("a claim left by a fold that died is folded by the next open, once", () => {
    const path = join(root, "journal-leftover.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.close();
    const leftover = `${journalPath(path)}.folding-999999-1`;
    writeFileSync(leftover, `${JSON.stringify({ kind: "ack", run_id: "run-1", topic: "t", partition: 3, first_offset: 0, count: 6 })}\n`);
    const reopened = openLedger(path);
    expect(reopened.getRun("run-1")?.sent).toBe(6);
    expect(existsSync(leftover)).toBe(false);
    reopened.close();
    const again = openLedger(path);
    expect(again.getRun("run-1")?.sent).toBe(6);
    again.close();
  });

  test("a last line cut short by a crash mid-append is dropped, the lines before it are added", () => {
    const path = join(root, "journal-torn.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.close();
    writeFileSync(
      journalPath(path),
      `${JSON.stringify({ kind: "ack", run_id: "run-1", topic: "t", partition: 0, first_offset: 0, count: 4 })}\n{"kind":"ack","run_id":"run-1","top`,
    );
    const reopened = openLedger(path);
    expect(reopened.getRun("run-1")?.sent).toBe(4);
    expect(existsSync(journalPath(path))).toBe(false);
    reopened.close();
  });

  test("a journal that cannot be folded in (the database still held) is kept, and the open fails saying so", () => {
    const path = join(root, "journal-held.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.keepForLater([{ kind: "ack", run_id: "run-1", topic: "t", partition: 0, first_offset: 0, count: 2 }]);
    ledger.close();
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    expect(() => openLedger(path, { busyTimeoutMs: 50 })).toThrow(/unrecorded\.ndjson.*locked by another process/);
    expect(existsSync(journalPath(path))).toBe(true);
    other.exec("ROLLBACK");
    other.close();
    const reopened = openLedger(path);
    expect(reopened.getRun("run-1")?.sent).toBe(2);
    reopened.close();
  });
});

describe("reading while a producer writes", () => {
  test("readConsistently sees one snapshot: a run's sent and its ranges agree though another process adds an acknowledgement mid-read", () => {
    const path = join(root, "snapshot.db");
    const reader = openLedger(path);
    reader.startRun(run);
    reader.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 10 }]);
    const writer = openLedger(path);
    const seen = reader.readConsistently(() => {
      const sent = reader.getRun("run-1")!.sent;
      writer.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 10, count: 5 }]); // the producer goes on meanwhile
      const ranged = reader.offsetRanges("run-1").reduce((sum, range) => sum + range.count, 0);
      return { sent, ranged };
    });
    expect(seen).toEqual({ sent: 10, ranged: 10 });
    // Outside the snapshot, the new acknowledgement is there.
    expect(reader.getRun("run-1")?.sent).toBe(15);
    writer.close();
    reader.close();
  });
});

describe("requests in doubt", () => {
  test("are kept per partition until settled; what was found counts as acknowledged, in one transaction with the row's removal", () => {
    const ledger = openLedger(join(root, "doubt.db"));
    ledger.startRun(run);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 10 }]);
    ledger.recordInDoubt("run-1", [
      { topic: "t", partition: 0, from_offset: 10, count: 5 },
      { topic: "t", partition: 1, from_offset: 40, count: 3 },
    ]);
    expect(ledger.inDoubt("run-1").map((entry) => entry.partition)).toEqual([0, 1]);
    ledger.finishRun("run-1", "failed", "the brokers went away");
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [{ firstOffset: 10, count: 5 }])).toBe("settled");
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [])).toBe("settled");
    expect(ledger.inDoubt("run-1")).toEqual([]);
    expect(ledger.getRun("run-1")?.sent).toBe(15);
    expect(ledger.offsetRanges("run-1")).toEqual([{ topic: "t", partition: 0, first_offset: 0, last_offset: 14, count: 15 }]);
    ledger.close();
  });

  test("recording a request's answer ends its partitions' in-doubt rows, in the same transaction", () => {
    const ledger = openLedger(join(root, "doubt-answered.db"));
    ledger.startRun(run);
    ledger.recordInDoubt("run-1", [
      { topic: "t", partition: 0, from_offset: 0, count: 5 },
      { topic: "t", partition: 1, from_offset: 0, count: 3 },
    ]);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 5 }]);
    expect(ledger.inDoubt("run-1")).toEqual([{ topic: "t", partition: 1, from_offset: 0, count: 3 }]);
    expect(ledger.getRun("run-1")?.sent).toBe(5);
    ledger.close();
  });

  test("an answer recorded after recon already found the request on the topic counts nothing twice", () => {
    const ledger = openLedger(join(root, "doubt-race.db"));
    ledger.startRun(run);
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 10 }]);
    ledger.recordInDoubt("run-1", [{ topic: "t", partition: 0, from_offset: 10, count: 5 }]);
    // recon finds the request (offsets 10..14) while the producer is between its answer and the ledger.
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [{ firstOffset: 10, count: 5 }])).toBe("settled");
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 10, count: 5 }]);
    // An answer partly known (a journal folding in over what recon found) adds only the new part.
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 12, count: 6 }]);
    expect(ledger.getRun("run-1")?.sent).toBe(18);
    expect(ledger.offsetRanges("run-1")).toEqual([{ topic: "t", partition: 0, first_offset: 0, last_offset: 17, count: 18 }]);
    ledger.close();
  });

  test("a row that changed since recon read it (the producer answered and sent the next) is left to the producer", () => {
    const ledger = openLedger(join(root, "doubt-moved-on.db"));
    ledger.startRun(run);
    ledger.recordInDoubt("run-1", [{ topic: "t", partition: 0, from_offset: 0, count: 5 }]);
    const seen = ledger.inDoubt("run-1")[0]!;
    ledger.recordAcks("run-1", "t", [{ partition: 0, firstOffset: 0, count: 5 }]);
    ledger.recordInDoubt("run-1", [{ topic: "t", partition: 0, from_offset: 5, count: 5 }]);
    expect(ledger.settleInDoubt("run-1", seen, [{ firstOffset: 0, count: 10 }])).toBe("answered");
    expect(ledger.getRun("run-1")?.sent).toBe(5);
    expect(ledger.inDoubt("run-1")).toEqual([{ topic: "t", partition: 0, from_offset: 5, count: 5 }]);
    ledger.close();
  });

  test("nothing found while the run still says running keeps the row: the request may land yet", () => {
    const ledger = openLedger(join(root, "doubt-pending.db"));
    ledger.startRun(run);
    ledger.recordInDoubt("run-1", [{ topic: "t", partition: 0, from_offset: 0, count: 5 }]);
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [])).toBe("pending");
    expect(ledger.inDoubt("run-1")).toHaveLength(1);
    ledger.finishRun("run-1", "failed");
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [])).toBe("settled");
    expect(ledger.inDoubt("run-1")).toEqual([]);
    ledger.close();
  });

  test("a request in doubt kept in the journal is recorded by the next open", () => {
    const path = join(root, "doubt-journal.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.keepForLater([{ kind: "in-doubt", run_id: "run-1", topic: "t", partition: 2, from_offset: 7, count: 4 }]);
    ledger.close();
    const reopened = openLedger(path);
    expect(reopened.inDoubt("run-1")).toEqual([{ topic: "t", partition: 2, from_offset: 7, count: 4 }]);
    reopened.close();
  });
});

describe("heartbeats: telling a killed producer's run from a live one", () => {
  /** Moves a run's last heartbeat into the past, as a producer killed that long ago would leave it. */
  function silentFor(path: string, runId: string, ms: number) {
    const db = new Database(path);
    db.query("UPDATE runs SET heartbeat_at = $at WHERE id = $runId").run({ $at: new Date(Date.now() - ms).toISOString(), $runId: runId });
    db.close();
  }

  test("a producer beats six times within the timeout, and at least every 10 s", () => {
    expect(heartbeatEveryMs(60_000)).toBe(10_000);
    expect(heartbeatEveryMs(3_000)).toBe(500);
    expect(heartbeatEveryMs(3_600_000)).toBe(10_000);
  });

  test("a run starts with a heartbeat, and beat moves it forward only while the run is running", async () => {
    const ledger = openLedger(join(root, "beat.db"));
    ledger.startRun(run);
    const started = ledger.getRun("run-1")!.heartbeat_at!;
    expect(started).toBe(ledger.getRun("run-1")!.started_at);
    await Bun.sleep(5);
    ledger.beat("run-1");
    const beaten = ledger.getRun("run-1")!.heartbeat_at!;
    expect(beaten > started).toBe(true);
    ledger.finishRun("run-1", "completed");
    await Bun.sleep(5);
    ledger.beat("run-1");
    expect(ledger.getRun("run-1")!.heartbeat_at).toBe(beaten);
    ledger.close();
  });

  test("a running run silent past the timeout is marked failed, saying since when; a live, a finished and an unselected one are left alone", () => {
    const path = join(root, "silent.db");
    const ledger = openLedger(path);
    for (const id of ["killed", "alive", "done", "other"]) ledger.startRun({ ...run, id });
    ledger.finishRun("done", "completed");
    for (const id of ["killed", "done", "other"]) silentFor(path, id, 120_000);
    const failed = ledger.failSilentRuns(["killed", "alive", "done"], 60_000);
    expect(failed.map((r) => r.id)).toEqual(["killed"]);
    const killed = ledger.getRun("killed")!;
    expect(killed.status).toBe("failed");
    expect(killed.finished_at).not.toBeNull();
    expect(killed.error).toBe(`its producer stopped without finishing the run (no heartbeat since ${killed.heartbeat_at}: killed, or its machine went down)`);
    expect(failed[0]!.error).toBe(killed.error);
    expect(ledger.getRun("alive")!.status).toBe("running");
    expect(ledger.getRun("done")!.status).toBe("completed");
    expect(ledger.getRun("other")!.status).toBe("running");
    ledger.close();
  });

  test("once a silent run is marked failed, its request that never landed is settled instead of staying in doubt", () => {
    const path = join(root, "silent-doubt.db");
    const ledger = openLedger(path);
    ledger.startRun(run);
    ledger.recordInDoubt("run-1", [{ topic: "t", partition: 0, from_offset: 0, count: 5 }]);
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [])).toBe("pending");
    silentFor(path, "run-1", 120_000);
    ledger.failSilentRuns(["run-1"], 60_000);
    expect(ledger.settleInDoubt("run-1", ledger.inDoubt("run-1")[0]!, [])).toBe("settled");
    expect(ledger.inDoubt("run-1")).toEqual([]);
    ledger.close();
  });

  test("a ledger written before heartbeats (schema 3) gains the column; its running runs are never taken for dead", () => {
    const path = join(root, "schema3.db");
    const db = new Database(path, { create: true });
    migrate(db, path, 3);
    expect(db.query("SELECT name FROM pragma_table_info('runs') WHERE name = 'heartbeat_at'").all()).toEqual([]);
    db.exec("INSERT INTO runs (id, producer, source, topic, started_at, status, sent) VALUES ('old', 'p', 'in', 't', '2026-01-01T00:00:00.000Z', 'running', 7)");
    db.close();
    const ledger = openLedger(path);
    expect(ledger.getRun("old")).toMatchObject({ status: "running", sent: 7, heartbeat_at: null });
    expect(ledger.failSilentRuns(["old"], 60_000)).toEqual([]);
    ledger.startRun(run);
    expect(ledger.getRun("run-1")!.heartbeat_at).not.toBeNull();
    ledger.close();
  });
});
