/**
 * Whether an existing ledger database may be written: opened read-write and a write lock taken and
 * released (BEGIN IMMEDIATE; ROLLBACK), so nothing in it changes and no migration runs. Only
 * `kstream check` asks; a ledger that does not exist yet is its folder's question.
 */
import { Database } from "bun:sqlite";

export type LedgerProbe = { readonly writable: true } | { readonly writable: false; readonly reason: string };

export function probeLedgerWrite(path: string, busyTimeoutMs: number): LedgerProbe {
  let database: Database | undefined;
  try {
    database = new Database(path, { readwrite: true, create: false });
    database.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    database.exec("BEGIN IMMEDIATE");
    database.exec("ROLLBACK");
    return { writable: true };
  } catch (error) {
    const message = (error as Error).message;
    const reason = /locked|busy/i.test(message) ? `locked by another process for longer than ${busyTimeoutMs} ms` : message;
    return { writable: false, reason };
  } finally {
    database?.close();
  }
}
