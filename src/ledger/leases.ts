/**
 * Job leases: at most one run of a job that keeps state in the ledger (batch-measure --since-last
 * of one staging topic; any later job with state of its own, such as compact, takes a lease under
 * its own name) holds that state at a time. A second run waits up to `waitMs` for the lease, then
 * refuses with JobBusyError (exit 4). The holder writes a heartbeat; a lease whose heartbeat is
 * older than `staleAfterMs`, or whose holder's process is gone from this host, is taken over, so a
 * holder killed with `kill -9` never blocks the job for good.
 *
 * The lease spares a second run wasted work and a refusal; it is not what keeps the state right.
 * Each update of the state stays conditional on what its run read (measure-state.ts), so even two
 * holders at once (one paused past the timeout, then resumed) cannot count anything twice.
 */
import type { Database, Statement } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { errnoOf, JobBusyError, StaleStateError } from "../errors.ts";
import { guard } from "./database.ts";
import type { LeaseOptions, LeaseRow, Leases } from "./types.ts";

export type LeaseVerdict =
  | { kind: "free" }
  | { kind: "abandoned"; reason: string }
  | { kind: "held"; row: LeaseRow };

/**
 * Pure: whether a run may take the lease `row` (undefined: nobody holds it). A holder is taken for
 * gone when its heartbeat is older than `staleAfterMs`, or at once when it ran on this host and its
 * process no longer exists. A reused pid only makes the wait longer (up to the timeout), never shorter.
 */
export function leaseVerdict(
  row: LeaseRow | undefined,
  now: number,
  staleAfterMs: number,
  here: { host: string; isAlive: (pid: number) => boolean },
): LeaseVerdict {
  if (!row) return { kind: "free" };
  if (row.host === here.host && !here.isAlive(row.pid)) return { kind: "abandoned", reason: `its process ${row.pid} on ${row.host} is gone` };
  const silentMs = now - row.heartbeat_at;
  if (silentMs > staleAfterMs) return { kind: "abandoned", reason: `no heartbeat for ${Math.round(silentMs / 1000)} s (pid ${row.pid} on ${row.host})` };
  return { kind: "held", row };
}

/** Whether a process with this id exists on this machine (EPERM: it exists, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === "EPERM";
  }
}

/** How often a holder beats: a sixth of the timeout, at most every 10 s (as produce runs do). */
const beatEveryMs = (staleAfterMs: number) => Math.max(250, Math.min(10_000, Math.floor(staleAfterMs / 6)));
const POLL_MS = 500;

function prepare(db: Database) {
  return {
    get: db.prepare("SELECT * FROM job_leases WHERE job = $job") as Statement<LeaseRow>,
    take: db.prepare(
      "INSERT OR REPLACE INTO job_leases (job, holder, host, pid, acquired_at, heartbeat_at) VALUES ($job, $holder, $host, $pid, $now, $now)",
    ),
    beat: db.prepare("UPDATE job_leases SET heartbeat_at = $now WHERE job = $job AND holder = $holder"),
    release: db.prepare("DELETE FROM job_leases WHERE job = $job AND holder = $holder"),
  };
}

export function openLeases(db: Database, path: string): Leases {
  const statements = guard(path, "prepare", () => prepare(db));
  const here = { host: hostname(), isAlive: processExists };
  const tryTake = db.transaction((job: string, holder: string, staleAfterMs: number): LeaseVerdict => {
    const now = Date.now();
    const verdict = leaseVerdict(statements.get.get({ job }) ?? undefined, now, staleAfterMs, here);
    if (verdict.kind !== "held") statements.take.run({ job, holder, host: here.host, pid: process.pid, now });
    return verdict;
  });

  return {
    async acquireLease(job, options) {
      const holder = randomUUID();
      const startedAt = Date.now();
      let waited = false;
      for (;;) {
        const verdict = guard(path, `take the lease of ${options.describe}`, () => tryTake.immediate(job, holder, options.staleAfterMs));
        if (verdict.kind === "abandoned") options.onTakeOver?.(verdict.reason);
        if (verdict.kind !== "held") break;
        const elapsed = Date.now() - startedAt;
        if (elapsed >= options.waitMs) throw busyError(job, options, verdict.row, elapsed);
        if (!waited) options.onWait?.(verdict.row);
        waited = true;
        await Bun.sleep(Math.min(POLL_MS, options.waitMs - elapsed));
      }
      let released = false;
      const timer = setInterval(() => {
        try {
          statements.beat.run({ job, holder, now: Date.now() });
        } catch {
          // The ledger is busy: the next beat tries again; a holder silent past the timeout loses the lease, which whileHeld notices.
        }
      }, beatEveryMs(options.staleAfterMs));
      timer.unref?.();
      const checkHeld = () => {
        if (statements.get.get({ job })?.holder !== holder) {
          throw new StaleStateError(
            `${options.describe}: another run took this run's lease over (this run was silent past ledger.heartbeat_timeout); its results were not written, run it again`,
            { context: { job, path } },
          );
        }
      };
      return {
        job,
        whileHeld: (step) => guard(path, `write the results of ${options.describe}`, () => db.transaction(() => (checkHeld(), step())).immediate()),
        release: () => {
          if (released) return;
          released = true;
          clearInterval(timer);
          try {
            statements.release.run({ job, holder });
          } catch {
            // Left behind, the lease is taken over once its heartbeat is old or its process gone.
          }
        },
      };
    },
  };
}

function busyError(job: string, options: LeaseOptions, row: LeaseRow, waitedMs: number): JobBusyError {
  const since = new Date(row.acquired_at).toISOString();
  return new JobBusyError(
    `${options.describe} is already running (pid ${row.pid} on ${row.host}, since ${since}); waited ${Math.round(waitedMs / 1000)} s (ledger.job_wait) — nothing was changed, run it again later`,
    { context: { job, pid: row.pid, host: row.host, since } },
  );
}
