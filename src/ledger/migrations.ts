/**
 * The ledger's schema as an ordered list of numbered migrations. A database's `PRAGMA
 * user_version` is the number of the last migration applied to it; opening applies the ones after
 * it, in order, each step in the same IMMEDIATE transaction as the version bump, so a crash leaves
 * the database at one version or the next, never between. Invariants: a migration, once released,
 * is never edited or renumbered (ledgers in the field were built by it); a new schema change is a
 * new entry at the end; a database newer than the last entry is refused, not guessed at.
 */
import type { Database } from "bun:sqlite";
import { LedgerError } from "../errors.ts";

export interface Migration {
  readonly version: number;
  readonly purpose: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    purpose: "producer runs, their acknowledged offset ranges and rejected lines",
    sql: `
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
  error       TEXT
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
CREATE TABLE IF NOT EXISTS run_rejections (
  run_id TEXT NOT NULL REFERENCES runs (id),
  line   INTEGER NOT NULL,
  reason TEXT NOT NULL
);`,
  },
  {
    version: 2,
    purpose: "batch-measure --since-last: how far each staging partition was read, and the exact per-window state (distinct users, country counts) so later runs only read what is new",
    sql: `
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
) WITHOUT ROWID;`,
  },
  {
    version: 3,
    purpose: "requests sent without a recorded answer: they may or may not have landed; recon looks for them (the run's messages from from_offset on) and settles each row",
    sql: `
CREATE TABLE IF NOT EXISTS run_in_doubt (
  run_id      TEXT NOT NULL REFERENCES runs (id),
  topic       TEXT NOT NULL,
  partition   INTEGER NOT NULL,
  from_offset INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  PRIMARY KEY (run_id, topic, partition)
);`,
  },
  {
    version: 4,
    purpose: "a heartbeat per run, so recon can tell a run whose producer was killed from one still producing",
    sql: "ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;",
  },
  {
    version: 5,
    purpose:
      "overlapping runs: one lease per job that keeps state (who holds it, its heartbeat), and the batch-measure windows whose state changed since a CSV last showed them",
    sql: `
CREATE TABLE IF NOT EXISTS job_leases (
  job          TEXT PRIMARY KEY,
  holder       TEXT NOT NULL,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  acquired_at  INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS measure_unwritten (
  topic        TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  PRIMARY KEY (topic, window_start)
) WITHOUT ROWID;`,
  },
];

/** The schema this kstream writes: the last migration's number. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(database: Database): number {
  return (database.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/**
 * Brings `database` to SCHEMA_VERSION (or to `target`, for tests that build an older ledger).
 * The version is read again inside the write lock, so two processes opening one old ledger at
 * once apply each migration once.
 */
export function migrate(database: Database, path: string, target: number = SCHEMA_VERSION): void {
  const found = schemaVersion(database);
  if (found > SCHEMA_VERSION) {
    throw new LedgerError(`ledger ${path} was written by a newer kstream (schema ${found} > ${SCHEMA_VERSION})`, { context: { path, schema: found } });
  }
  // Up to date: no write lock taken (another producer sharing the ledger may hold it).
  for (const migration of MIGRATIONS) {
    if (migration.version <= found) continue;
    if (migration.version > target) break;
    database
      .transaction(() => {
        if (schemaVersion(database) >= migration.version) return;
        database.exec(migration.sql);
        database.exec(`PRAGMA user_version = ${migration.version}`);
      })
      .immediate();
  }
}
