/**
 * The measures of SPEC.md "Measures", pure: per time window the number of distinct users (the
 * placeholder email not counted) and the most and least represented country (null countries
 * ignored; ties to the country that sorts first by code point). Memory grows with the distinct
 * (window, user) pairs and (window, country) pairs, never with the message count.
 */

export interface StagingRecord {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly country: string | null;
  readonly user: string | null;
}

export interface WindowMeasure {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly mostCountry: string | null;
  readonly mostCount: number | null;
  readonly leastCountry: string | null;
  readonly leastCount: number | null;
  readonly uniqueUsers: number;
}

interface WindowState {
  end: number;
  users: Set<string>;
  countries: Map<string, number>;
}

export interface MeasureAggregator {
  add(record: StagingRecord): void;
  /** Windows seen so far, sorted by start. */
  measures(): WindowMeasure[];
  readonly windowCount: number;
}

export function createAggregator(options: { placeholder: string; from?: number | undefined; to?: number | undefined }): MeasureAggregator {
  const windows = new Map<number, WindowState>();
  // Consecutive records nearly always share a window.
  let lastStart = Number.NaN;
  let last: WindowState | undefined;
  return {
    get windowCount() {
      return windows.size;
    },
    add(record) {
      if (options.from !== undefined && record.windowStart < options.from) return;
      if (options.to !== undefined && record.windowStart >= options.to) return;
      let state = record.windowStart === lastStart ? last : windows.get(record.windowStart);
      if (!state) {
        state = { end: record.windowEnd, users: new Set(), countries: new Map() };
        windows.set(record.windowStart, state);
      }
      lastStart = record.windowStart;
      last = state;
      if (record.user !== null && record.user !== options.placeholder) state.users.add(record.user);
      if (record.country !== null) state.countries.set(record.country, (state.countries.get(record.country) ?? 0) + 1);
    },
    measures() {
      return [...windows.entries()]
        .sort(([a], [b]) => a - b)
        .map(([start, state]) => measureOf(start, state.end, state.users.size, state.countries));
    },
  };
}

export function measureOf(windowStart: number, windowEnd: number, uniqueUsers: number, countries: ReadonlyMap<string, number>): WindowMeasure {
  let most: [string, number] | undefined;
  let least: [string, number] | undefined;
  for (const [country, count] of countries) {
    if (!most || count > most[1] || (count === most[1] && compareCodePoints(country, most[0]) < 0)) most = [country, count];
    if (!least || count < least[1] || (count === least[1] && compareCodePoints(country, least[0]) < 0)) least = [country, count];
  }
  return {
    windowStart,
    windowEnd,
    mostCountry: most?.[0] ?? null,
    mostCount: most?.[1] ?? null,
    leastCountry: least?.[0] ?? null,
    leastCount: least?.[1] ?? null,
    uniqueUsers,
  };
}

/** Order by Unicode code point (JavaScript's `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  while (true) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/** Parses one staging message value; undefined for a value that is not kstream's staging JSON. */
export function parseStagingValue(value: string): StagingRecord | undefined {
  try {
    const parsed = JSON.parse(value) as { time_window?: { start?: unknown; end?: unknown }; country?: unknown; users?: unknown };
    const start = typeof parsed.time_window?.start === "string" ? Date.parse(parsed.time_window.start) : Number.NaN;
    const end = typeof parsed.time_window?.end === "string" ? Date.parse(parsed.time_window.end) : Number.NaN;
    if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
    return {
      windowStart: start,
      windowEnd: end,
      country: typeof parsed.country === "string" ? parsed.country : null,
      user: typeof parsed.users === "string" ? parsed.users : null,
    };
  } catch {
    return undefined;
  }
}
