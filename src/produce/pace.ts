/**
 * Pacing for `produce --rate N`: when may the n-th message go, given the run's start. Pure, so
 * the rate arithmetic is tested without clocks; rate 0 means "as fast as the broker takes them".
 */

/** Milliseconds after the start at which message number `index` (0-based) is due. */
export function dueAtMs(index: number, ratePerSecond: number): number {
  return ratePerSecond > 0 ? (index / ratePerSecond) * 1000 : 0;
}

/**
 * How many messages to put in the next request: at most `batchSize`, and under a rate only those
 * already due (at least one), so a slow rate sends small timely requests instead of bursts.
 */
export function dueCount(sentSoFar: number, elapsedMs: number, ratePerSecond: number, batchSize: number): number {
  if (ratePerSecond <= 0) return batchSize;
  const due = Math.floor((elapsedMs / 1000) * ratePerSecond) + 1 - sentSoFar;
  return Math.max(1, Math.min(batchSize, due));
}
