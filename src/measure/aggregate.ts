/**
 * The measures of SPEC.md "Measures", pure: per time window the number of distinct users (the
 * placeholder email not counted) and the most and least represented country (null countries
 * ignored; ties to the country that sorts first by code point). Memory grows with the distinct
 * (window, user) pairs and (window, country) pairs, never with the message count; users and
 * countries are kept as bytes (byte-keys.ts), not strings.
 */
import { ByteKeyTable, sameBytes } from "./byte-keys.ts";

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

/**
 * Where one staging value's fields lie in its bytes (staging-value.ts reads them in place): the
 * window's times, and the country's and user's text as [from, to) of the value, from = -1 for
 * null; `ascii` when every byte of that text is below 0x80.
 */
export interface StagingFields {
  windowStart: number;
  windowEnd: number;
  countryFrom: number;
  countryTo: number;
  countryAscii: boolean;
  userFrom: number;
  userTo: number;
  userAscii: boolean;
}

interface WindowState {
  /** The users table's tag for this window. */
  id: number;
  end: number;
  users: number;
  /** Records per country id. */
  countries: Map<number, number>;
}

export interface MeasureAggregator {
  add(record: StagingRecord): void;
  /** What add(the record of `value`) does, read from where `fields` says its fields lie. */
  addFields(value: Buffer, fields: StagingFields): void;
  /** Windows seen so far, sorted by start. */
  measures(): WindowMeasure[];
  readonly windowCount: number;
}

/**
 * A text's key in the byte tables: its bytes when it is ASCII (in a value they are the text as it
 * is), else 0xFF and its UTF-16 code units — the same key for the same text whichever way it
 * came, a different one for any other text (no ASCII key holds 0xFF; UTF-16 keeps lone
 * surrogates and invalid UTF-8's replacement characters apart, as strings do).
 */
class TextKeys {
  bytes = Buffer.alloc(256);
  /** Writes `text`'s key into `bytes` (grown as needed); returns its length. */
  write(text: string): number {
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    const length = ascii ? text.length : 1 + 2 * text.length;
    if (length > this.bytes.length) this.bytes = Buffer.alloc(2 * length);
    if (ascii) {
      this.bytes.write(text, 0, "latin1");
    } else {
      this.bytes[0] = 0xff;
      this.bytes.write(text, 1, "utf16le");
    }
    return length;
  }
}

export function createAggregator(options: { placeholder: string; from?: number | undefined; to?: number | undefined }): MeasureAggregator {
  const windows = new Map<number, WindowState>();
  const users = new ByteKeyTable();
  const countries = new ByteKeyTable();
  const countryNames: string[] = [];
  const keys = new TextKeys();
  const placeholder = Buffer.from(keys.bytes.subarray(0, keys.write(options.placeholder)));
  // Consecutive records nearly always share a window.
  let lastStart = Number.NaN;
  let last: WindowState | undefined;

  const windowOf = (start: number, end: number): WindowState | undefined => {
    if (start === lastStart) return last;
    if (options.from !== undefined && start < options.from) return undefined;
    if (options.to !== undefined && start >= options.to) return undefined;
    let state = windows.get(start);
    if (!state) {
      state = { id: windows.size, end, users: 0, countries: new Map() };
      windows.set(start, state);
    }
    lastStart = start;
    last = state;
    return state;
  };
  const countUser = (state: WindowState, bytes: Uint8Array, from: number, to: number) => {
    if (to - from === placeholder.length && sameBytes(bytes, from, placeholder, 0, placeholder.length)) return;
    const before = users.size;
    users.add(state.id, bytes, from, to);
    if (users.size > before) state.users++;
  };
  /** Counts the country for the window; its id, which is countryNames.length when the country is new (then the caller names it). */
  const countCountry = (state: WindowState, bytes: Uint8Array, from: number, to: number): number => {
    const id = countries.add(0, bytes, from, to);
    state.countries.set(id, (state.countries.get(id) ?? 0) + 1);
    return id;
  };
  // The key is written first: write() may put it in a new, larger `keys.bytes`.
  const countUserText = (state: WindowState, user: string) => {
    const length = keys.write(user);
    countUser(state, keys.bytes, 0, length);
  };
  const countCountryText = (state: WindowState, country: string) => {
    const length = keys.write(country);
    if (countCountry(state, keys.bytes, 0, length) === countryNames.length) countryNames.push(country);
  };

  return {
    get windowCount() {
      return windows.size;
    },
    add(record) {
      const state = windowOf(record.windowStart, record.windowEnd);
      if (!state) return;
      if (record.user !== null) countUserText(state, record.user);
      if (record.country !== null) countCountryText(state, record.country);
    },
    addFields(value, fields) {
      const state = windowOf(fields.windowStart, fields.windowEnd);
      if (!state) return;
      const { userFrom, userTo, countryFrom, countryTo } = fields;
      if (userFrom >= 0) {
        if (fields.userAscii) countUser(state, value, userFrom, userTo);
        else countUserText(state, value.toString("utf8", userFrom, userTo));
      }
      if (countryFrom >= 0) {
        if (!fields.countryAscii) countCountryText(state, value.toString("utf8", countryFrom, countryTo));
        else if (countCountry(state, value, countryFrom, countryTo) === countryNames.length) countryNames.push(value.toString("latin1", countryFrom, countryTo));
      }
    },
    measures() {
      return [...windows.entries()]
        .sort(([a], [b]) => a - b)
        .map(([start, state]) => measureOf(start, state.end, state.users, new Map([...state.countries].map(([id, count]) => [countryNames[id]!, count]))));
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
