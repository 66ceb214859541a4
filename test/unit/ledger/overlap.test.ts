/**
 * Overlapping runs over one ledger, without a broker: the pure decisions (is a batch stale, may a
 * lease be taken) and what two handles on one file (as two processes have) do with them. The
 * state is checked with sqlite's own view of the file where the API could hide a double count.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, ExitCode, JobBusyError, StaleStateError } from "../../../src/errors.ts";
import { leaseVerdict } from "../../../src/ledger/leases.ts";
import { type LeaseRow, openLedger, type MeasureDelta } from "../../../src/ledger/ledger.ts";
import { isStaleDelta } from "../../../src/ledger/measure-state.ts";

const root = mkdtempSync(join(tmpdir(), "kstream-overlap-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `ledger-${counter++}.db`);

const WINDOW = 1_800_000_000_000;
function delta(partition: number, readFrom: bigint | undefined, nextOffset: bigint, france = 3): MeasureDelta {
  return {
    windows: new Map([[WINDOW, WINDOW + 300_000]]),
    users: [[WINDOW, `u${partition}`]],
    countries: new Map([[`${WINDOW}\u0000France`, france]]),
    partition,
    readFrom,
    nextOffset,
  };
}

function franceCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("SELECT SUM(count) AS n FROM measure_countries WHERE country = 'France'").get() as { n: number | null }).n ?? 0;
  } finally {
    db.close();
  }
}

describe("a batch-measure batch is stale", () => {
  test("when the stored offset is not the one its run read from, including one stored where none was", () => {
    expect(isStaleDelta(undefined, undefined)).toBe(false);
    expect(isStaleDelta(42n, 42n)).toBe(false);
    expect(isStaleDelta(42n, undefined)).toBe(true);
    expect(isStaleDelta(50n, 42n)).toBe(true);
    // Moved backwards (a restored ledger) is a change too: nothing is applied over it.
    expect(isStaleDelta(10n, 42n)).toBe(true);
  });

  test("two runs that read a partition from the same offset count its batch once: the second is refused with KSTREAM_STALE_STATE", () => {
    const path = freshPath();
    const first = openLedger(path);
    const second = openLedger(path);
    const readByFirst = first.measureOffsets("staging").get(0);
    const readBySecond = second.measureOffsets("staging").get(0);
    first.applyMeasureDelta("staging", delta(0, readByFirst, 100n));
    let refused: unknown;
    try {
      second.applyMeasureDelta("staging", delta(0, readBySecond, 100n));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StaleStateError);
    expect((refused as StaleStateError).code).toBe(ErrorCode.staleState);
    expect((refused as StaleStateError).exitCode).toBe(ExitCode.busy);
    expect(franceCount(path)).toBe(3);
    expect(first.measureOffsets("staging")).toEqual(new Map([[0, 100n]]));
    // A run that goes on from where its own last batch ended is not stale.
    first.applyMeasureDelta("staging", delta(0, 100n, 150n, 2));
    expect(franceCount(path)).toBe(5);
    first.close();
    second.close();
  });

  test("an applied batch leaves its windows unwritten until a CSV is marked as showing them", () => {
    const ledger = openLedger(freshPath());
    ledger.applyMeasureDelta("staging", delta(1, undefined, 10n));
    expect(ledger.unwrittenWindows("staging")).toEqual([WINDOW]);
    expect(ledger.unwrittenWindows("other")).toEqual([]);
    ledger.markWindowsWritten("staging", [WINDOW]);
    expect(ledger.unwrittenWindows("staging")).toEqual([]);
    ledger.close();
  });
});

describe("a job lease", () => {
  const here = { host: "h1", isAlive: (pid: number) => pid !== 99 };
  const row = (fields: Partial<LeaseRow>): LeaseRow => ({ job: "j", holder: "x", host: "h1", pid: 7, acquired_at: 0, heartbeat_at: 1_000, ...fields });

  test("is free when nobody holds it, held while its holder beats, and abandoned once silent past the timeout", () => {
    expect(leaseVerdict(undefined, 5_000, 60_000, here)).toEqual({ kind: "free" });
    expect(leaseVerdict(row({}), 61_000, 60_000, here).kind).toBe("held");
    expect(leaseVerdict(row({}), 61_001, 60_000, here).kind).toBe("abandoned");
  });

  test("is abandoned at once when its holder ran on this host and its process is gone, but not for a process on another host", () => {
    expect(leaseVerdict(row({ pid: 99 }), 2_000, 60_000, here)).toEqual({ kind: "abandoned", reason: expect.stringContaining("99") });
    expect(leaseVerdict(row({ pid: 99, host: "h2" }), 2_000, 60_000, here).kind).toBe("held");
  });

  test("makes a second run wait, then refuse with KSTREAM_BUSY and exit 4, naming the holder's pid", async () => {
    const path = freshPath();
    const first = openLedger(path);
    const second = openLedger(path);
    const options = { waitMs: 600, staleAfterMs: 60_000, describe: "the job" };
    const held = await first.acquireLease("job", options);
    let waitedFor: LeaseRow | undefined;
    const startedAt = Date.now();
    const refused = await second.acquireLease("job", { ...options, onWait: (holder) => (waitedFor = holder) }).catch((error: unknown) => error);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(550);
    expect(refused).toBeInstanceOf(JobBusyError);
    expect((refused as JobBusyError).code).toBe(ErrorCode.busy);
    expect((refused as JobBusyError).exitCode).toBe(4);
    expect((refused as JobBusyError).message).toContain(`pid ${process.pid}`);
    expect(waitedFor?.pid).toBe(process.pid);
    held.release();
    const next = await second.acquireLease("job", options);
    next.release();
    first.close();
    second.close();
  });

  test("a waiting run gets the lease as soon as its holder releases it", async () => {
    const path = freshPath();
    const first = openLedger(path);
    const second = openLedger(path);
    const options = { waitMs: 30_000, staleAfterMs: 60_000, describe: "the job" };
    const held = await first.acquireLease("job", options);
    setTimeout(() => held.release(), 700);
    const startedAt = Date.now();
    const next = await second.acquireLease("job", options);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    next.release();
    first.close();
    second.close();
  });

  test("left by a process killed on this host is taken over at once, and the killed holder's writes are then refused", async () => {
    const path = freshPath();
    const killed = openLedger(path);
    const options = { waitMs: 0, staleAfterMs: 60_000, describe: "the job" };
    const stale = await killed.acquireLease("job", options);
    // As if its process died: the row names a process that existed and is gone.
    const gone = Bun.spawnSync(["true"]).pid;
    const db = new Database(path);
    db.run("UPDATE job_leases SET pid = ? WHERE job = 'job'", [gone]);
    db.close();
    const taker = openLedger(path);
    let reason: string | undefined;
    const lease = await taker.acquireLease("job", { ...options, onTakeOver: (why) => (reason = why) });
    expect(reason).toContain(String(gone));
    expect(lease.whileHeld(() => "written")).toBe("written");
    expect(() => stale.whileHeld(() => "written")).toThrow(StaleStateError);
    // The old holder giving up does not free the new holder's lease.
    stale.release();
    await expect(openLedger(path).acquireLease("job", options)).rejects.toBeInstanceOf(JobBusyError);
    lease.release();
    killed.close();
    taker.close();
  });

  test("whose holder went silent past the timeout is taken over, even from another host", async () => {
    const path = freshPath();
    const db = openLedger(path);
    db.close();
    const raw = new Database(path);
    raw.run("INSERT INTO job_leases (job, holder, host, pid, acquired_at, heartbeat_at) VALUES ('job', 'old', 'elsewhere', 1, 0, ?)", [Date.now() - 10_000]);
    raw.close();
    const ledger = openLedger(path);
    const lease = await ledger.acquireLease("job", { waitMs: 0, staleAfterMs: 5_000, describe: "the job" });
    const after = new Database(path, { readonly: true });
    expect(after.query("SELECT host, pid FROM job_leases").get()).toEqual({ host: hostname(), pid: process.pid });
    after.close();
    lease.release();
    ledger.close();
  });
});
