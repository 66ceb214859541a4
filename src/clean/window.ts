/**
 * Tumbling time windows aligned to the Unix epoch in UTC (SPEC.md "Staging topic"):
 * start = floor(t / size) * size, end = start + size, interval [start, end). Also the reading of
 * the config's human durations ("5 minutes", "30s"), which set the window size and file age.
 */

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** The largest distance from the epoch, in ms, that a JavaScript Date (and toISOString) can hold. */
export const MAX_TIME_MS = 8.64e15;

const NO_WINDOW: TimeWindow = { start: Number.NaN, end: Number.NaN };

/**
 * The window holding a timestamp. Computed with the remainder rather than by dividing, which is
 * exact for every integer timestamp (a quotient rounded up at the far end of the range would give
 * a start after the timestamp). A size that is not a positive number gives NaN bounds.
 */
export function windowOf(timestampMs: number, sizeMs: number): TimeWindow {
  if (!(sizeMs > 0 && sizeMs !== Number.POSITIVE_INFINITY)) return NO_WINDOW;
  const remainder = timestampMs % sizeMs;
  const start = remainder < 0 ? timestampMs - remainder - sizeMs : timestampMs - remainder;
  return { start: start + 0, end: start + sizeMs }; // + 0 turns -0 into 0
}

/** Whether both bounds are times toISOString can write (within ±MAX_TIME_MS of the epoch). */
export function isRepresentableWindow(window: TimeWindow): boolean {
  return window.start >= -MAX_TIME_MS && window.end <= MAX_TIME_MS;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** One "<number> <unit>" part, then the separators before the next one. */
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)[ \t]*([a-z]+)[ \t,]*/y;

/**
 * Milliseconds for a duration such as "5 minutes", "30s", "1h 30m", "500ms" or "1.5 hours"; undefined
 * for anything else. Units are required (a bare "30" is refused: seconds or minutes?), case does not
 * matter, and the result must be a positive whole number of milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== "string") return undefined;
  const input = text.trim().toLowerCase();
  if (input === "" || input.length > 200) return undefined;
  let total = 0;
  let index = 0;
  while (index < input.length) {
    DURATION_PART.lastIndex = index;
    const match = DURATION_PART.exec(input);
    if (match === null) return undefined;
    const unit = UNIT_MS[match[2]!];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    index = DURATION_PART.lastIndex;
  }
  // Decimal fractions are inexact in binary: 0.1 h is 360000.00000000006 ms, which is still 360000.
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > Math.max(1e-6, total * 1e-12)) return undefined;
  return rounded > 0 && Number.isSafeInteger(rounded) ? rounded : undefined;
}
