/**
 * The ledger (bun:sqlite, one file): the run ledger (runs.ts: producer runs, acknowledged offset
 * ranges, requests in doubt, rejections, heartbeats) and batch-measure's --since-last state
 * (measure-state.ts) and the leases of jobs that keep state (leases.ts), over one database opened
 * and migrated by database.ts. The shapes are in
 * types.ts; this module opens the whole and re-exports what callers import.
 */
import { openDatabase } from "./database.ts";
import { openLeases } from "./leases.ts";
import { openMeasureState } from "./measure-state.ts";
import { openRunLedger } from "./runs.ts";
import type { Ledger } from "./types.ts";

export * from "./types.ts";
export { heartbeatEveryMs } from "./runs.ts";

export function openLedger(path: string, options: { busyTimeoutMs?: number } = {}): Ledger {
  const db = openDatabase(path, options.busyTimeoutMs);
  // Run ledger first: it folds in a journal left by an earlier run before anyone reads.
  const runs = openRunLedger(db, path);
  const measures = openMeasureState(db, path);
  const leases = openLeases(db, path);
  return { path, ...runs, ...measures, ...leases, close: () => db.close() };
}
