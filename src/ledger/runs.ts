/**
 * The run ledger: one row per producer run and the per-partition offset ranges the broker
 * acknowledged for it, so `recon` can tell exactly which input offsets a run owns. Every request is
 * written as in doubt before it is sent, and its acknowledgement replaces that in one small
 * transaction, so after a crash (kill -9) the run still says `running`, its counts are what was
 * acknowledged, and the request that was on its way is left in doubt for recon to look up. What
 * could not be written (the database held by another process past its lock timeout) is kept in a
 * journal beside it (journal.ts) and folded in by the next open. A producer also writes a
 * heartbeat into its run, so recon can tell a run whose producer was killed from one still producing.
 * Invariant: no offset is ever counted twice in a run's `sent` or its ranges, whichever of the
 * producer, recon or a journal fold records it first.
 */
import type { Database, Statement } from "bun:sqlite";
import { guard } from "./database.ts";
import { appendToJournal, claimJournal, journalPath, readJournalFiles, removeClaims } from "./journal.ts";
import { uncoveredParts } from "./offset-ranges.ts";
import { type Acknowledgement, type InDoubt, type JournalEntry, MAX_REJECTION_DETAILS, type OffsetRange, type Rejection, type RunLedger, type RunRow } from "./types.ts";

/**
 * How often a producer writes its heartbeat, for recon to take a run silent for `timeoutMs`
 * (ledger.heartbeat_timeout) for dead: six beats would have to be missed, and never more than 10 s
 * apart, so a ledger held by another process for a lock timeout does not look like a death.
 */
export function heartbeatEveryMs(timeoutMs: number): number {
  return Math.min(10_000, Math.floor(timeoutMs / 6));
}

const inRun = "run_id = $runId AND topic = $topic AND partition = $partition";

function prepare(db: Database) {
  return {
    insertRun: db.prepare(
      "INSERT INTO runs (id, producer, source, topic, started_at, status, heartbeat_at) VALUES ($id, $producer, $source, $topic, $startedAt, 'running', $startedAt)",
    ),
    lastRange: db.prepare(`SELECT first_offset, last_offset FROM run_offsets WHERE ${inRun} ORDER BY first_offset DESC LIMIT 1`) as Statement<{ first_offset: number; last_offset: number }>,
    extendRange: db.prepare(`UPDATE run_offsets SET last_offset = $lastOffset, count = count + $count WHERE ${inRun} AND first_offset = $firstOffset`),
    insertRange: db.prepare(
      "INSERT INTO run_offsets (run_id, topic, partition, first_offset, last_offset, count) VALUES ($runId, $topic, $partition, $firstOffset, $lastOffset, $count)",
    ),
    addSent: db.prepare("UPDATE runs SET sent = sent + $count WHERE id = $runId"),
    addRejected: db.prepare("UPDATE runs SET rejected = rejected + 1 WHERE id = $runId RETURNING rejected") as Statement<{ rejected: number }>,
    insertRejection: db.prepare("INSERT INTO run_rejections (run_id, line, reason) VALUES ($runId, $line, $reason)"),
    finish: db.prepare("UPDATE runs SET status = $status, finished_at = $finishedAt, error = $error WHERE id = $runId"),
    finishIfRunning: db.prepare("UPDATE runs SET status = $status, finished_at = $finishedAt, error = $error WHERE id = $runId AND status = 'running'"),
    beat: db.prepare("UPDATE runs SET heartbeat_at = $now WHERE id = $runId AND status = 'running'"),
    silentSince: db.prepare(
      "SELECT * FROM runs WHERE id = $runId AND status = 'running' AND heartbeat_at IS NOT NULL AND heartbeat_at < $before",
    ) as Statement<RunRow>,
    insertInDoubt: db.prepare(
      "INSERT OR REPLACE INTO run_in_doubt (run_id, topic, partition, from_offset, count) VALUES ($runId, $topic, $partition, $fromOffset, $count)",
    ),
    inDoubt: db.prepare("SELECT topic, partition, from_offset, count FROM run_in_doubt WHERE run_id = $runId ORDER BY topic, partition") as Statement<InDoubt>,
    oneInDoubt: db.prepare(`SELECT topic, partition, from_offset, count FROM run_in_doubt WHERE ${inRun}`) as Statement<InDoubt>,
    deleteInDoubt: db.prepare(`DELETE FROM run_in_doubt WHERE ${inRun}`),
    overlapping: db.prepare(
      `SELECT first_offset AS first, last_offset AS last FROM run_offsets WHERE ${inRun} AND first_offset <= $lastOffset AND last_offset >= $firstOffset`,
    ) as Statement<{ first: number; last: number }>,
    getRun: db.prepare("SELECT * FROM runs WHERE id = $runId") as Statement<RunRow>,
    latest: db.prepare("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT 1") as Statement<RunRow>,
    latestOf: db.prepare("SELECT * FROM runs WHERE producer = $producer ORDER BY started_at DESC, id DESC LIMIT 1") as Statement<RunRow>,
    list: db.prepare("SELECT * FROM runs ORDER BY started_at, id") as Statement<RunRow>,
    ranges: db.prepare(
      "SELECT topic, partition, first_offset, last_offset, count FROM run_offsets WHERE run_id = $runId ORDER BY topic, partition, first_offset",
    ) as Statement<OffsetRange>,
    rejections: db.prepare("SELECT line, reason FROM run_rejections WHERE run_id = $runId ORDER BY line") as Statement<Rejection>,
  };
}

type Statements = ReturnType<typeof prepare>;

/** The multi-statement writes, each one sqlite transaction (callers pick IMMEDIATE). */
function transactions(db: Database, statements: Statements) {
  /** Adds the offsets no range of the run holds yet: recon or a journal fold may have counted some already. */
  const addAck = (runId: string, topic: string, partition: number, firstOffset: number, count: number) => {
    const recorded = statements.overlapping.all({ runId, topic, partition, firstOffset, lastOffset: firstOffset + count - 1 });
    for (const part of uncoveredParts(firstOffset, firstOffset + count - 1, recorded)) {
      const partCount = part.last - part.first + 1;
      const previous = statements.lastRange.get({ runId, topic, partition });
      if (previous && previous.last_offset + 1 === part.first) {
        statements.extendRange.run({ runId, topic, partition, firstOffset: previous.first_offset, lastOffset: part.last, count: partCount });
      } else {
        statements.insertRange.run({ runId, topic, partition, firstOffset: part.first, lastOffset: part.last, count: partCount });
      }
      statements.addSent.run({ runId, count: partCount });
    }
  };
  /** A partition's answer: its offsets counted, and its in-doubt row (written before the send) gone. */
  const addAnswer = (runId: string, topic: string, { partition, firstOffset, count }: Acknowledgement) => {
    addAck(runId, topic, partition, firstOffset, count);
    statements.deleteInDoubt.run({ runId, topic, partition });
  };
  const addInDoubt = (runId: string, { topic, partition, from_offset: fromOffset, count }: InDoubt) =>
    statements.insertInDoubt.run({ runId, topic, partition, fromOffset, count });
  return {
    recordAcks: db.transaction((runId: string, topic: string, acks: readonly Acknowledgement[]) => {
      for (const ack of acks) addAnswer(runId, topic, ack);
    }),
    recordInDoubt: db.transaction((runId: string, entries: readonly InDoubt[]) => {
      for (const entry of entries) addInDoubt(runId, entry);
    }),
    settleInDoubt: db.transaction((runId: string, entry: InDoubt, found: readonly { firstOffset: number; count: number }[]) => {
      const { topic, partition } = entry;
      const current = statements.oneInDoubt.get({ runId, topic, partition });
      if (!current || current.from_offset !== entry.from_offset || current.count !== entry.count) return "answered" as const;
      if (found.length === 0 && statements.getRun.get({ runId })?.status === "running") return "pending" as const;
      for (const segment of found) addAck(runId, topic, partition, segment.firstOffset, segment.count);
      statements.deleteInDoubt.run({ runId, topic, partition });
      return "settled" as const;
    }),
    failSilentRuns: db.transaction((runIds: readonly string[], before: string) => {
      const failed: RunRow[] = [];
      for (const runId of runIds) {
        const run = statements.silentSince.get({ runId, before });
        if (!run) continue;
        const error = `its producer stopped without finishing the run (no heartbeat since ${run.heartbeat_at}: killed, or its machine went down)`;
        statements.finish.run({ runId, status: "failed", finishedAt: new Date().toISOString(), error });
        failed.push({ ...run, status: "failed", error });
      }
      return failed;
    }),
    /** Folds the journal in; a range already recorded or a run already finished is skipped (idempotent). */
    foldJournal: db.transaction((entries: readonly JournalEntry[]) => {
      for (const entry of entries) {
        if (entry.kind === "ack") addAnswer(entry.run_id, entry.topic, { partition: entry.partition, firstOffset: entry.first_offset, count: entry.count });
        else if (entry.kind === "in-doubt") addInDoubt(entry.run_id, entry);
        else statements.finishIfRunning.run({ runId: entry.run_id, status: entry.status, finishedAt: entry.finished_at, error: entry.error });
      }
    }),
    recordRejection: db.transaction((runId: string, rejection: Rejection) => {
      const row = statements.addRejected.get({ runId });
      if (row && row.rejected <= MAX_REJECTION_DETAILS) statements.insertRejection.run({ runId, ...rejection });
    }),
  };
}

/** The run ledger over `db`, with whatever a journal beside `path` kept folded in first. */
export function openRunLedger(db: Database, path: string): RunLedger {
  const statements = guard(path, "prepare", () => prepare(db));
  const writes = transactions(db, statements);
  const claimed = claimJournal(path);
  if (claimed.length > 0) {
    const journal = readJournalFiles(claimed);
    try {
      guard(path, `add the records kept in ${journalPath(path)}`, () => writes.foldJournal.immediate(journal));
    } catch (error) {
      // Not folded: the entries go back to the journal, where the next open finds them.
      appendToJournal(path, journal);
      removeClaims(claimed);
      throw error;
    }
    removeClaims(claimed);
  }
  const now = () => new Date().toISOString();
  return {
    startRun: (run) => guard(path, "start a run", () => statements.insertRun.run({ ...run, startedAt: now() })),
    // IMMEDIATE: take the write lock when the transaction begins. A deferred transaction that reads
    // first cannot upgrade after another process (a second producer sharing the ledger) committed,
    // and sqlite then fails at once instead of waiting out busy_timeout.
    recordAcks: (runId, topic, acks) => guard(path, "record an acknowledgement", () => writes.recordAcks.immediate(runId, topic, acks)),
    recordRejection: (runId, rejection) => guard(path, "record a rejected line", () => writes.recordRejection.immediate(runId, rejection)),
    recordInDoubt: (runId, entries) => guard(path, "record the requests not yet answered", () => writes.recordInDoubt.immediate(runId, entries)),
    inDoubt: (runId) => guard(path, "read the requests in doubt", () => statements.inDoubt.all({ runId })),
    settleInDoubt: (runId, entry, found) => guard(path, "settle a request in doubt", () => writes.settleInDoubt.immediate(runId, entry, found)),
    beat: (runId) => guard(path, "record the run's heartbeat", () => statements.beat.run({ runId, now: now() })),
    failSilentRuns: (runIds, silentForMs) =>
      guard(path, "mark runs whose producer stopped", () => writes.failSilentRuns.immediate(runIds, new Date(Date.now() - silentForMs).toISOString())),
    finishRun: (runId, status, error) =>
      guard(path, "finish the run", () => statements.finish.run({ runId, status, finishedAt: now(), error: error ?? null })),
    keepForLater: (entries) => appendToJournal(path, entries),
    getRun: (runId) => guard(path, "read a run", () => statements.getRun.get({ runId }) ?? undefined),
    latestRun: (producer) =>
      guard(path, "read the latest run", () => (producer === undefined ? statements.latest.get() : statements.latestOf.get({ producer })) ?? undefined),
    listRuns: () => guard(path, "list runs", () => statements.list.all()),
    offsetRanges: (runId) => guard(path, "read offset ranges", () => statements.ranges.all({ runId })),
    readConsistently: (read) => guard(path, "read a consistent snapshot", () => db.transaction(read).deferred()),
    rejections: (runId) => guard(path, "read rejections", () => statements.rejections.all({ runId })),
  };
}
