/**
 * The memory budget across partitions: past clean.max_buffered_rows rows buffered in this
 * process, the fullest cycles end early (fullest first) until the rest fits. This, not the
 * partition count, bounds the memory of a run.
 */
import type { Serial } from "./serial.ts";

export interface BudgetedCycle {
  readonly bufferedRows: number;
  readonly serial: Serial;
  flushIfDue(now: number, force?: boolean): Promise<void>;
}

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

/** Ends the cycles the budget chooses, one after another, each on its partition's serial. */
export async function enforceMemoryBudget(cycles: readonly BudgetedCycle[], maxBufferedRows: number): Promise<void> {
  for (const cycle of cyclesToFlush(cycles, maxBufferedRows)) await cycle.serial.run(() => cycle.flushIfDue(Date.now(), true));
}
