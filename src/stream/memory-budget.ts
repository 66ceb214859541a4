/**
 * The memory budget across partitions: past clean.max_buffered_rows rows buffered in this
 * process, the fullest cycles end early (fullest first) until the rest fits. This, not the
 * partition count, bounds the memory of a run.
 *
 * The ends it chooses run in the background, each on its partition's serial: while one
 * partition's Parquet is encoded (in a clean worker) and committed, the consumer goes on with the
 * other partitions' batches. Rows of ends still in flight count against a hard bound of
 * HARD_BOUND_FACTOR budgets: past it, the next batch waits for them, so a slow store cannot
 * let rows pile up without limit.
 */
import type { Serial } from "./serial.ts";

export interface BudgetedCycle {
  readonly bufferedRows: number;
  readonly serial: Serial;
  flushIfDue(now: number, force?: boolean): Promise<void>;
}

/** Rows held, ends in flight included, past which a batch waits for those ends (times the budget). */
export const HARD_BOUND_FACTOR = 1.5;

/** Which cycles end early, fullest first, so that the rows left buffered are at most `maxBufferedRows`. Pure. */
export function cyclesToFlush<C extends { readonly bufferedRows: number }>(cycles: readonly C[], maxBufferedRows: number): C[] {
  let total = cycles.reduce((sum, cycle) => sum + cycle.bufferedRows, 0);
  const chosen: C[] = [];
  for (const cycle of [...cycles].sort((a, b) => b.bufferedRows - a.bufferedRows)) {
    if (total <= maxBufferedRows || cycle.bufferedRows === 0) break;
    chosen.push(cycle);
    total -= cycle.bufferedRows;
  }
  return chosen;
}

export interface MemoryBudget<C extends BudgetedCycle> {
  /**
   * Starts the ends the budget chooses among the cycles not already ending; resolves at once,
   * unless the rows held pass the hard bound: then once the ends in flight are done. A failed
   * end goes to `onFailure`, never to the caller.
   */
  enforce(cycles: readonly C[]): Promise<void>;
  /** Ends started and not yet done. */
  readonly inFlight: number;
}

export function createMemoryBudget<C extends BudgetedCycle>(maxBufferedRows: number, onFailure: (cycle: C, error: unknown) => void): MemoryBudget<C> {
  const ending = new Map<C, Promise<void>>();
  return {
    get inFlight() {
      return ending.size;
    },
    async enforce(cycles) {
      const idle = cycles.filter((cycle) => !ending.has(cycle));
      for (const cycle of cyclesToFlush(idle, maxBufferedRows)) {
        const end = cycle.serial
          .run(() => cycle.flushIfDue(Date.now(), true))
          .catch((error) => onFailure(cycle, error))
          .finally(() => ending.delete(cycle));
        ending.set(cycle, end);
      }
      const held = cycles.reduce((sum, cycle) => sum + cycle.bufferedRows, 0);
      if (held > maxBufferedRows * HARD_BOUND_FACTOR) await Promise.all(ending.values());
    },
  };
}
