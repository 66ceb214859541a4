/**
 * The group loop's clock: every tick it ends cycles older than file_max_age (a quiet partition
 * does not hold rows for hours), notices commits (which reset the partition-restart budget),
 * reports progress, and with --until-caught-up asks whether the group has committed the end
 * offsets seen at start. The decisions are pure functions; `startClock` is the timer around them.
 */
import type { Serial } from "./serial.ts";

/** How often the clock looks for cycles older than file_max_age (and progress toward the end offsets). */
export const TICK_MS = 250;

export interface ClockedCycle {
  readonly serial: Serial;
  flushIfDue(now: number, force?: boolean): Promise<void>;
}

export interface ClockOptions<C extends ClockedCycle> {
  readonly everyMs: number;
  /** The cycles that take batches now. */
  readonly cycles: () => readonly C[];
  /** A cycle's age-based end failed. */
  readonly onFlushFailure: (cycle: C, error: unknown) => void;
  /** Everything else a tick does (progress, commit watch, the caught-up poll). */
  readonly onTick: () => void;
  readonly now?: () => number;
}

/** Starts the clock; returns the function that stops it. */
export function startClock<C extends ClockedCycle>(options: ClockOptions<C>): () => void {
  const now = options.now ?? Date.now;
  const timer = setInterval(() => {
    const at = now();
    for (const cycle of options.cycles()) {
      cycle.serial.run(() => cycle.flushIfDue(at)).catch((error) => options.onFlushFailure(cycle, error));
    }
    options.onTick();
  }, options.everyMs);
  return () => clearInterval(timer);
}

/** Calls `onChange` when the commit count moved since the last look. */
export function commitWatch(commits: () => number, onChange: () => void): () => void {
  let seen = commits();
  return () => {
    if (commits() === seen) return;
    seen = commits();
    onChange();
  };
}

/** True once every partition's committed offset reaches its target (the end offset seen at start). Pure. */
export function allCommitted(targets: ReadonlyMap<number, bigint>, committed: ReadonlyMap<number, bigint>): boolean {
  return [...targets].every(([partition, target]) => (committed.get(partition) ?? 0n) >= target);
}

/** True when a partition's cycle has processed up to its target, so it should commit now. Pure. */
export function reachedTarget(targets: ReadonlyMap<number, bigint> | undefined, partition: number, offsetToCommit: bigint): boolean {
  return targets !== undefined && offsetToCommit >= (targets.get(partition) ?? 0n);
}

/** Records not yet processed: the high watermark minus the offset to commit, over the partitions with a cycle. Pure. */
export function lag(highWatermarks: ReadonlyMap<number, bigint>, offsetOf: (partition: number) => bigint | undefined): number {
  let total = 0n;
  for (const [partition, high] of highWatermarks) {
    const offset = offsetOf(partition);
    if (offset !== undefined && high > offset) total += high - offset;
  }
  return Number(total);
}

export interface CaughtUpPollOptions {
  readonly check: () => Promise<boolean>;
  /** Admin failures since the last answer: allow() says whether to ask again. */
  readonly failures: { allow(error: unknown): boolean; recovered(): void };
  readonly onCaughtUp: () => void;
  readonly onRetry: (error: unknown) => void;
  readonly fail: (error: unknown) => void;
}

/**
 * The caught-up check, one at a time (its admin round trips can take longer than a tick). A
 * retriable failure (a coordinator moving because its broker died) is asked again at the next
 * poll, within the limit; past it, or for any other failure, the run fails.
 */
export function caughtUpPoll(options: CaughtUpPollOptions): () => void {
  let running = false;
  return () => {
    if (running) return;
    running = true;
    options
      .check()
      .then(
        (done) => {
          options.failures.recovered();
          if (done) options.onCaughtUp();
        },
        (error) => (options.failures.allow(error) ? options.onRetry(error) : options.fail(error)),
      )
      .finally(() => {
        running = false;
      });
  };
}

/**
 * How long the broker holds a fetch that finds nothing new. Leaving the group waits for the fetch
 * in flight, and once a run has caught up that fetch finds nothing: each run until caught up
 * ended with a whole wait (0.4 s of a 1,000-record run's 1.0 s). Such a run waits 100 ms; a
 * long-lived consumer keeps 500 ms, five times fewer empty fetches on an idle topic. A fetch that
 * finds records returns at once either way.
 */
export function fetchWaitMs(untilCaughtUp: boolean): number {
  return untilCaughtUp ? 100 : 500;
}
