/**
 * The one sqlite file under the run ledger and the measure state: opened with the pragmas both
 * rely on (WAL, NORMAL sync, foreign keys, a lock timeout), migrated to the current schema, and
 * `guard`, which turns any sqlite failure into one LedgerError naming the file and the step.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { KstreamError, LedgerError } from "../errors.ts";
import { migrate } from "./migrations.ts";

/** How long a write waits for another process's lock before failing with "locked" (ledger.lock_timeout's default). */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export function openDatabase(path: string, busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS): Database {
  return guard(path, "open", () => {
    mkdirSync(dirname(path), { recursive: true });
    const database = new Database(path, { create: true, strict: true });
    database.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    // Only the first opener changes the journal mode: doing it again would need a lock that a
    // second producer writing to the same ledger may hold.
    if ((database.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode !== "wal") {
      database.exec("PRAGMA journal_mode = WAL");
    }
    // WAL + NORMAL: a committed transaction survives a process crash (kill -9), which is the
    // failure the ledger must ride out; only a power loss may drop the last few.
    database.exec("PRAGMA synchronous = NORMAL");
    database.exec("PRAGMA foreign_keys = ON");
    migrate(database, path);
    return database;
  });
}

/** Runs a database step, turning sqlite's errors into one LedgerError that names the file. */
export function guard<T>(path: string, doing: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    // A kstream error raised inside the step (a stale update, a refused lease, a file write) is already the one line to show.
    if (error instanceof KstreamError) throw error;
    const message = (error as Error).message;
    const hint = /locked|busy/i.test(message)
      ? "the database is locked by another process"
      : /readonly|read-only|unable to open|permission/i.test(message)
        ? "the database cannot be written"
        : message;
    throw new LedgerError(`ledger ${path}: cannot ${doing}: ${hint}`, { cause: error, context: { path } });
  }
}
