/**
 * The producer ledger (bun:sqlite): one row per producer run and the per-partition offset ranges
 * the broker acknowledged for it, so `recon` can tell exactly which input offsets a run owns.
 * Every request is written as in doubt before it is sent, and its acknowledgement replaces that in
 * one small transaction, so after a crash (kill -9) the run still says `running`, its counts are what
 * was acknowledged, and the request that was on its way is left in doubt for recon to look up. What could
 * not be written (the database held by another process past its lock timeout) is kept in a journal
 * beside it (journal.ts) and folded in by the next open. A producer also writes a heartbeat into
 * its run, so recon can tell a run whose producer was killed from one still producing.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { LedgerError } from "../errors.ts";
import { appendToJournal, type JournalEntry, journalPath, readJournal, removeJournal } from "./journal.ts";
import { uncoveredParts } from "./offset-ranges.ts";

export type RunStatus = "running" | "completed" | "failed" | "interrupted";

export interface RunRow {
  id: string;
  producer: string;
  source: string;
  topic: string;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  sent: number;
  rejected: number;
  error: string | null;
  /** When the run's producer last said it was alive (null: a run from a kstream before heartbeats). */
  heartbeat_at: string | null;
}

export interface OffsetRange {
  topic: string;
  partition: number;
  first_offset: number;
  last_offset: number;
  count: number;
}

/** The header produce puts on every message, naming its ledger run: how recon finds a run's messages on the topic. */
export const RUN_HEADER = "kstream-run";

/**
 * How often a producer writes its heartbeat, for recon to take a run silent for `timeoutMs`
 * (ledger.heartbeat_timeout) for dead: six beats would have to be missed, and never more than 10 s
 * apart, so a ledger held by another process for a lock timeout does not look like a death.
 */
export function heartbeatEveryMs(timeoutMs: number): number {
  return Math.min(10_000, Math.floor(timeoutMs / 6));
}

/** What the broker acknowledged for one partition of a produce request: `count` messages from `firstOffset` on. */
export interface Acknowledgement {
  partition: number;
  firstOffset: number;
  count: number;
}

/**
 * Records of one partition in a request whose answer is not recorded: written before the request is
 * sent and removed with its acknowledgement, so a producer killed in between leaves it behind. The
 * `count` records, if they landed, are at or after `from_offset`.
 */
export interface InDoubt {
  topic: string;
  partition: number;
  from_offset: number;
  count: number;
}

export interface Rejection {
  line: number;
  reason: string;
}

/** Rejection details kept per run; the count is always exact, the details stop here. */
export const MAX_REJECTION_DETAILS = 10_000;

const SCHEMA_VERSION = 4;

const MIGRATIONS = `
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  producer    TEXT NOT NULL,
  source      TEXT NOT NULL,
  topic       TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  sent        INTEGER NOT NULL DEFAULT 0,
  rejected    INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  heartbeat_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_producer ON runs (producer, started_at);
CREATE TABLE IF NOT EXISTS run_offsets (
  run_id       TEXT NOT NULL REFERENCES runs (id),
  topic        TEXT NOT NULL,
  partition    INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  last_offset  INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (run_id, topic, partition, first_offset)
);
-- Requests sent without an answer (the brokers gone mid-request): they may or may not have
-- landed. recon looks for them (messages of the run from from_offset on) and settles each row.
CREATE TABLE IF NOT EXISTS run_in_doubt (
  run_id      TEXT NOT NULL REFERENCES runs (id),
  topic       TEXT NOT NULL,
  partition   INTEGER NOT NULL,
  from_offset INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  PRIMARY KEY (run_id, topic, partition)
);
CREATE TABLE IF NOT EXISTS run_rejections (
  run_id TEXT NOT NULL REFERENCES runs (id),
  line   INTEGER NOT NULL,
  reason TEXT NOT NULL
);
-- batch-measure --since-last: how far each staging partition was read, and the exact
-- per-window state (distinct users, country counts) so later runs only read what is new.
CREATE TABLE IF NOT EXISTS measure_offsets (
  topic       TEXT NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS measure_windows (
  topic        TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end   INTEGER NOT NULL,
  PRIMARY KEY (topic, window_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS measure_users (
  topic        TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  user         TEXT NOT NULL,
  PRIMARY KEY (topic, window_start, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS measure_countries (
  topic        TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  country      TEXT NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (topic, window_start, country)
) WITHOUT ROWID;
`;

/** What one batch of staging messages adds to the --since-last state. */
export interface MeasureDelta {
  readonly windows: ReadonlyMap<number, number>; // start -> end
  readonly users: ReadonlyArray<readonly [number, string]>;
  readonly countries: ReadonlyMap<string, number>; // `${start}\u0000${country}` -> count
  readonly partition: number;
  readonly nextOffset: bigint;
}

export interface StoredWindow {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly uniqueUsers: number;
  readonly countries: Map<string, number>;
}

export interface Ledger {
  readonly path: string;
  startRun(run: { id: string; producer: string; source: string; topic: string }): void;
  /**
   * Records one answered produce request, in one transaction: its acknowledged partitions (only
   * offsets no range holds yet) and the end of their in-doubt rows.
   */
  recordAcks(runId: string, topic: string, acks: readonly Acknowledgement[]): void;
  recordRejection(runId: string, rejection: Rejection): void;
  /** Records requests whose answer is not (yet) recorded, for recon to settle if it never is. */
  recordInDoubt(runId: string, entries: readonly InDoubt[]): void;
  inDoubt(runId: string): InDoubt[];
  /**
   * Settles one in-doubt row with what was found on the topic (the run's messages from its
   * from_offset on), in one transaction: "settled" counts what was found as acknowledged and removes
   * the row; "answered" means the row changed since it was read (the producer recorded the answer
   * meanwhile), and nothing is done; "pending" means nothing was found while the run still says
   * running, and the row stays (the request may land yet, or its producer was killed before it went).
   */
  settleInDoubt(runId: string, entry: InDoubt, found: readonly { firstOffset: number; count: number }[]): "settled" | "answered" | "pending";
  /** Says the run's producer is alive: recon takes a running run without a heartbeat for long for dead. */
  beat(runId: string): void;
  /**
   * Of these runs, marks `failed` the ones still `running` whose heartbeat is older than
   * `silentForMs` (their producer was killed, or its machine went down), and returns them.
   */
  failSilentRuns(runIds: readonly string[], silentForMs: number): RunRow[];
  finishRun(runId: string, status: Exclude<RunStatus, "running">, error?: string): void;
  /**
   * Keeps acknowledgements and a final status the database would not take, durably, for the next
   * openLedger to fold in; returns the journal's path.
   */
  keepForLater(entries: readonly JournalEntry[]): string;
  getRun(runId: string): RunRow | undefined;
  latestRun(producer?: string): RunRow | undefined;
  listRuns(): RunRow[];
  offsetRanges(runId: string): OffsetRange[];
  /**
   * Runs `read` in one read transaction: everything it reads is one snapshot, even while a
   * producer in another process keeps adding acknowledgements (a run's `sent` and its ranges agree).
   */
  readConsistently<T>(read: () => T): T;
  rejections(runId: string): Rejection[];
  measureOffsets(topic: string): Map<number, bigint>;
  /** Adds one batch to the --since-last state and moves the partition's offset, in one transaction. */
  applyMeasureDelta(topic: string, delta: MeasureDelta): void;
  measureWindows(topic: string, windowStarts?: readonly number[]): StoredWindow[];
  close(): void;
}

/** How long a write waits for another process's lock before failing with "locked" (ledger.lock_timeout's default). */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export function openLedger(path: string, options: { busyTimeoutMs?: number } = {}): Ledger {
  const db = guard(path, "open", () => {
    mkdirSync(dirname(path), { recursive: true });
    const database = new Database(path, { create: true, strict: true });
    database.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
    // Only the first opener changes the journal mode: doing it again would need a lock that a
    // second producer writing to the same ledger may hold.
    if ((database.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode !== "wal") {
      database.exec("PRAGMA journal_mode = WAL");
    }
    // WAL + NORMAL: a committed transaction survives a process crash (kill -9), which is the
    // failure the ledger must ride out; only a power loss may drop the last few.
    database.exec("PRAGMA synchronous = NORMAL");
    database.exec("PRAGMA foreign_keys = ON");
    const version = (database.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) {
      throw new LedgerError(`ledger ${path} was written by a newer kstream (schema ${version} > ${SCHEMA_VERSION})`);
    }
    if (version < SCHEMA_VERSION) {
      database
        .transaction(() => {
          database.exec(MIGRATIONS);
          // Schema 4: a ledger from before it has runs without the heartbeat column.
          const columns = database.query("PRAGMA table_info(runs)").all() as { name: string }[];
          if (!columns.some((column) => column.name === "heartbeat_at")) database.exec("ALTER TABLE runs ADD COLUMN heartbeat_at TEXT");
          database.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        })
        .immediate();
    }
    return database;
  });

  const statements = guard(path, "prepare", () => ({
    insertRun: db.prepare(
      "INSERT INTO runs (id, producer, source, topic, started_at, status, heartbeat_at) VALUES ($id, $producer, $source, $topic, $startedAt, 'running', $startedAt)",
    ),
    lastRange: db.prepare(
      "SELECT first_offset, last_offset FROM run_offsets WHERE run_id = $runId AND topic = $topic AND partition = $partition ORDER BY first_offset DESC LIMIT 1",
    ) as Statement<{ first_offset: number; last_offset: number }>,
    extendRange: db.prepare(
      "UPDATE run_offsets SET last_offset = $lastOffset, count = count + $count WHERE run_id = $runId AND topic = $topic AND partition = $partition AND first_offset = $firstOffset",
    ),
    insertRange: db.prepare(
      "INSERT INTO run_offsets (run_id, topic, partition, first_offset, last_offset, count) VALUES ($runId, $topic, $partition, $firstOffset, $lastOffset, $count)",
    ),
    addSent: db.prepare("UPDATE runs SET sent = sent + $count WHERE id = $runId"),
    addRejected: db.prepare("UPDATE runs SET rejected = rejected + 1 WHERE id = $runId RETURNING rejected") as Statement<{ rejected: number }>,
    insertRejection: db.prepare("INSERT INTO run_rejections (run_id, line, reason) VALUES ($runId, $line, $reason)"),
    finish: db.prepare("UPDATE runs SET status = $status, finished_at = $finishedAt, error = $error WHERE id = $runId"),
    finishIfRunning: db.prepare(
      "UPDATE runs SET status = $status, finished_at = $finishedAt, error = $error WHERE id = $runId AND status = 'running'",
    ),
    beat: db.prepare("UPDATE runs SET heartbeat_at = $now WHERE id = $runId AND status = 'running'"),
    silentSince: db.prepare(
      "SELECT * FROM runs WHERE id = $runId AND status = 'running' AND heartbeat_at IS NOT NULL AND heartbeat_at < $before",
    ) as Statement<RunRow>,
    insertInDoubt: db.prepare(
      "INSERT OR REPLACE INTO run_in_doubt (run_id, topic, partition, from_offset, count) VALUES ($runId, $topic, $partition, $fromOffset, $count)",
    ),
    inDoubt: db.prepare("SELECT topic, partition, from_offset, count FROM run_in_doubt WHERE run_id = $runId ORDER BY topic, partition") as Statement<InDoubt>,
    oneInDoubt: db.prepare(
      "SELECT topic, partition, from_offset, count FROM run_in_doubt WHERE run_id = $runId AND topic = $topic AND partition = $partition",
    ) as Statement<InDoubt>,
    deleteInDoubt: db.prepare("DELETE FROM run_in_doubt WHERE run_id = $runId AND topic = $topic AND partition = $partition"),
    overlapping: db.prepare(
      "SELECT first_offset AS first, last_offset AS last FROM run_offsets WHERE run_id = $runId AND topic = $topic AND partition = $partition AND first_offset <= $lastOffset AND last_offset >= $firstOffset",
    ) as Statement<{ first: number; last: number }>,
    getRun: db.prepare("SELECT * FROM runs WHERE id = $runId") as Statement<RunRow>,
    latest: db.prepare("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT 1") as Statement<RunRow>,
    latestOf: db.prepare("SELECT * FROM runs WHERE producer = $producer ORDER BY started_at DESC, id DESC LIMIT 1") as Statement<RunRow>,
    list: db.prepare("SELECT * FROM runs ORDER BY started_at, id") as Statement<RunRow>,
    ranges: db.prepare(
      "SELECT topic, partition, first_offset, last_offset, count FROM run_offsets WHERE run_id = $runId ORDER BY topic, partition, first_offset",
    ) as Statement<OffsetRange>,
    rejections: db.prepare("SELECT line, reason FROM run_rejections WHERE run_id = $runId ORDER BY line") as Statement<Rejection>,
    measureOffsets: db.prepare("SELECT partition, next_offset FROM measure_offsets WHERE topic = $topic") as Statement<{ partition: number; next_offset: number }>,
    upsertMeasureOffset: db.prepare(
      "INSERT INTO measure_offsets (topic, partition, next_offset) VALUES ($topic, $partition, $nextOffset) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
    ),
    insertWindow: db.prepare("INSERT OR IGNORE INTO measure_windows (topic, window_start, window_end) VALUES ($topic, $start, $end)"),
    insertUser: db.prepare("INSERT OR IGNORE INTO measure_users (topic, window_start, user) VALUES ($topic, $start, $user)"),
    addCountry: db.prepare(
      "INSERT INTO measure_countries (topic, window_start, country, count) VALUES ($topic, $start, $country, $count) ON CONFLICT (topic, window_start, country) DO UPDATE SET count = count + excluded.count",
    ),
    allWindows: db.prepare("SELECT window_start, window_end FROM measure_windows WHERE topic = $topic ORDER BY window_start") as Statement<{ window_start: number; window_end: number }>,
    oneWindow: db.prepare("SELECT window_start, window_end FROM measure_windows WHERE topic = $topic AND window_start = $start") as Statement<{ window_start: number; window_end: number }>,
    windowUsers: db.prepare("SELECT COUNT(*) AS n FROM measure_users WHERE topic = $topic AND window_start = $start") as Statement<{ n: number }>,
    windowCountries: db.prepare("SELECT country, count FROM measure_countries WHERE topic = $topic AND window_start = $start") as Statement<{ country: string; count: number }>,
  }));

  const applyMeasureDelta = db.transaction((topic: string, delta: MeasureDelta) => {
    for (const [start, end] of delta.windows) statements.insertWindow.run({ topic, start, end });
    for (const [start, user] of delta.users) statements.insertUser.run({ topic, start, user });
    for (const [key, count] of delta.countries) {
      const separator = key.indexOf("\u0000");
      statements.addCountry.run({ topic, start: Number(key.slice(0, separator)), country: key.slice(separator + 1), count });
    }
    statements.upsertMeasureOffset.run({ topic, partition: delta.partition, nextOffset: Number(delta.nextOffset) });
  });

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
  const recordAcks = db.transaction((runId: string, topic: string, acks: readonly Acknowledgement[]) => {
    for (const ack of acks) addAnswer(runId, topic, ack);
  });

  const addInDoubt = (runId: string, { topic, partition, from_offset: fromOffset, count }: InDoubt) =>
    statements.insertInDoubt.run({ runId, topic, partition, fromOffset, count });
  const recordInDoubt = db.transaction((runId: string, entries: readonly InDoubt[]) => {
    for (const entry of entries) addInDoubt(runId, entry);
  });
  const settleInDoubt = db.transaction((runId: string, entry: InDoubt, found: readonly { firstOffset: number; count: number }[]) => {
    const { topic, partition } = entry;
    const current = statements.oneInDoubt.get({ runId, topic, partition });
    if (!current || current.from_offset !== entry.from_offset || current.count !== entry.count) return "answered" as const;
    if (found.length === 0 && statements.getRun.get({ runId })?.status === "running") return "pending" as const;
    for (const segment of found) addAck(runId, topic, partition, segment.firstOffset, segment.count);
    statements.deleteInDoubt.run({ runId, topic, partition });
    return "settled" as const;
  });

  const failSilentRuns = db.transaction((runIds: readonly string[], before: string) => {
    const failed: RunRow[] = [];
    for (const runId of runIds) {
      const run = statements.silentSince.get({ runId, before });
      if (!run) continue;
      const error = `its producer stopped without finishing the run (no heartbeat since ${run.heartbeat_at}: killed, or its machine went down)`;
      statements.finish.run({ runId, status: "failed", finishedAt: new Date().toISOString(), error });
      failed.push({ ...run, status: "failed", error });
    }
    return failed;
  });

  /** Folds the journal in; a range already recorded or a run already finished is skipped (idempotent). */
  const foldJournal = db.transaction((entries: readonly JournalEntry[]) => {
    for (const entry of entries) {
      if (entry.kind === "ack") {
        addAnswer(entry.run_id, entry.topic, { partition: entry.partition, firstOffset: entry.first_offset, count: entry.count });
      } else if (entry.kind === "in-doubt") {
        addInDoubt(entry.run_id, entry);
      } else {
        statements.finishIfRunning.run({ runId: entry.run_id, status: entry.status, finishedAt: entry.finished_at, error: entry.error });
      }
    }
  });
  const journal = readJournal(path);
  if (journal !== undefined) {
    guard(path, `add the records kept in ${journalPath(path)}`, () => foldJournal.immediate(journal));
    removeJournal(path);
  }

  const recordRejection = db.transaction((runId: string, rejection: Rejection) => {
    const row = statements.addRejected.get({ runId });
    if (row && row.rejected <= MAX_REJECTION_DETAILS) statements.insertRejection.run({ runId, ...rejection });
  });

  return {
    path,
    startRun: (run) =>
      guard(path, "start a run", () => statements.insertRun.run({ ...run, startedAt: new Date().toISOString() })),
    // IMMEDIATE: take the write lock when the transaction begins. A deferred transaction that reads
    // first cannot upgrade after another process (a second producer sharing the ledger) committed,
    // and sqlite then fails at once instead of waiting out busy_timeout.
    recordAcks: (runId, topic, acks) => guard(path, "record an acknowledgement", () => recordAcks.immediate(runId, topic, acks)),
    recordRejection: (runId, rejection) => guard(path, "record a rejected line", () => recordRejection.immediate(runId, rejection)),
    recordInDoubt: (runId, entries) => guard(path, "record the requests not yet answered", () => recordInDoubt.immediate(runId, entries)),
    inDoubt: (runId) => guard(path, "read the requests in doubt", () => statements.inDoubt.all({ runId })),
    settleInDoubt: (runId, entry, found) => guard(path, "settle a request in doubt", () => settleInDoubt.immediate(runId, entry, found)),
    beat: (runId) => guard(path, "record the run's heartbeat", () => statements.beat.run({ runId, now: new Date().toISOString() })),
    failSilentRuns: (runIds, silentForMs) =>
      guard(path, "mark runs whose producer stopped", () => failSilentRuns.immediate(runIds, new Date(Date.now() - silentForMs).toISOString())),
    finishRun: (runId, status, error) =>
      guard(path, "finish the run", () =>
        statements.finish.run({ runId, status, finishedAt: new Date().toISOString(), error: error ?? null }),
      ),
    keepForLater: (entries) => appendToJournal(path, entries),
    getRun: (runId) => guard(path, "read a run", () => statements.getRun.get({ runId }) ?? undefined),
    latestRun: (producer) =>
      guard(path, "read the latest run", () =>
        (producer === undefined ? statements.latest.get() : statements.latestOf.get({ producer })) ?? undefined,
      ),
    listRuns: () => guard(path, "list runs", () => statements.list.all()),
    offsetRanges: (runId) => guard(path, "read offset ranges", () => statements.ranges.all({ runId })),
    readConsistently: (read) => guard(path, "read a consistent snapshot", () => db.transaction(read).deferred()),
    rejections: (runId) => guard(path, "read rejections", () => statements.rejections.all({ runId })),
    measureOffsets: (topic) =>
      guard(path, "read batch-measure offsets", () => new Map(statements.measureOffsets.all({ topic }).map((row) => [row.partition, BigInt(row.next_offset)]))),
    applyMeasureDelta: (topic, delta) => guard(path, "record batch-measure state", () => applyMeasureDelta.immediate(topic, delta)),
    measureWindows: (topic, windowStarts) =>
      guard(path, "read batch-measure state", () => {
        const windows = windowStarts
          ? windowStarts.flatMap((start) => statements.oneWindow.all({ topic, start }))
          : statements.allWindows.all({ topic });
        return windows.map(({ window_start: start, window_end: end }) => ({
          windowStart: start,
          windowEnd: end,
          uniqueUsers: statements.windowUsers.get({ topic, start })?.n ?? 0,
          countries: new Map(statements.windowCountries.all({ topic, start }).map((row) => [row.country, row.count])),
        }));
      }),
    close: () => db.close(),
  };
}

/** Runs a database step, turning sqlite's errors into one LedgerError that names the file. */
function guard<T>(path: string, doing: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    const message = (error as Error).message;
    const hint = /locked|busy/i.test(message)
      ? "the database is locked by another process"
      : /readonly|read-only|unable to open|permission/i.test(message)
        ? "the database cannot be written"
        : message;
    throw new LedgerError(`ledger ${path}: cannot ${doing}: ${hint}`, { cause: error });
  }
}
