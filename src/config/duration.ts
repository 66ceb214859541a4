/**
 * Human durations in the config ("30s", "5 minutes", "1h 30m", "250ms") turned into milliseconds.
 * Kept beside the schema because the schema validates them and the jobs convert them once at start.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/** Milliseconds for a duration text, or undefined when it is not one (a bare number is not: units are required). */
export function parseDuration(text: string): number | undefined {
  const input = text.trim().toLowerCase();
  if (input === "") return undefined;
  let total = 0;
  let index = 0;
  while (index < input.length) {
    PART.lastIndex = index;
    const match = PART.exec(input);
    if (!match) return undefined;
    const unit = UNIT_MS[match[2]!];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    index = PART.lastIndex;
    while (input[index] === " " || input[index] === ",") index++;
  }
  return Number.isFinite(total) && total > 0 ? Math.round(total) : undefined;
}

/** Like parseDuration for values the schema already validated. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: ${text}`);
  return ms;
}
