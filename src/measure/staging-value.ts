/**
 * Reads a staging message value straight from its bytes. stream-clean writes each value in one
 * fixed layout (clean/staging.ts): {"time_window":{"start":"<ISO>","end":"<ISO>"},"country":<c>,
 * "users":<u>} with c and u null or a JSON string. A value in exactly that layout, with its
 * strings free of escapes, is read here without JSON.parse; anything else (escapes, other
 * spacing or key order, a value another producer wrote) goes to the JSON.parse reader, so every
 * value gives the record, or the rejection, it gave before. Pure.
 */
import type { StagingFields, StagingRecord } from "./aggregate.ts";
import { sameBytes } from "./byte-keys.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const ascii = (text: string) => Buffer.from(text, "latin1");
const START = ascii('{"time_window":{"start":"');
const END = ascii('","end":"');
const COUNTRY = ascii('"},"country":');
const USERS = ascii(',"users":');
const NULL = ascii("null");
/** `YYYY-MM-DDTHH:MM:SS.sssZ`, what toISOString writes for years 0000-9999. */
const ISO_LENGTH = 24;

/** Consecutive values nearly always share a window: its bytes and times, kept from the last value. */
export interface WindowCache {
  bytes: Buffer;
  start: number;
  end: number;
}

export function createWindowCache(): WindowCache {
  return { bytes: Buffer.alloc(2 * ISO_LENGTH), start: Number.NaN, end: Number.NaN };
}

export function createStagingFields(): StagingFields {
  return { windowStart: 0, windowEnd: 0, countryFrom: -1, countryTo: -1, countryAscii: true, userFrom: -1, userTo: -1, userAscii: true };
}

/** readStagingValue's fields: read and turned into the record before it returns. */
const scratchFields = createStagingFields();

/**
 * The record of one staging value, or undefined for a value that is not kstream's staging JSON:
 * the layout above read in place, everything else through `slow` (JSON.parse).
 */
export function readStagingValue(value: Buffer, cache: WindowCache, slow: (text: string) => StagingRecord | undefined): StagingRecord | undefined {
  const fields = scratchFields;
  if (!readStagingFields(value, cache, fields)) return slow(value.toString("utf8"));
  const text = (from: number, to: number) => (from < 0 ? null : value.toString("utf8", from, to));
  return { windowStart: fields.windowStart, windowEnd: fields.windowEnd, country: text(fields.countryFrom, fields.countryTo), user: text(fields.userFrom, fields.userTo) };
}

/**
 * The fast path: true with `fields` filled in when the value is in the fixed layout, false when
 * it is not (not a verdict: `slow` decides). Makes no string unless the window is new.
 */
export function readStagingFields(value: Buffer, cache: WindowCache, fields: StagingFields): boolean {
  let at = START.length;
  if (!startsWith(value, 0, START)) return false;
  const startAt = at;
  at += ISO_LENGTH;
  if (!startsWith(value, at, END)) return false;
  const endAt = at + END.length;
  at = endAt + ISO_LENGTH;
  if (!startsWith(value, at, COUNTRY)) return false;
  if (!windowTimes(value, startAt, endAt, cache)) return false;
  at += COUNTRY.length;
  const countryEnd = nullOrPlainString(value, at);
  if (countryEnd < 0) return false;
  const countryNull = value[at] !== QUOTE;
  fields.countryFrom = countryNull ? -1 : at + 1;
  fields.countryTo = countryNull ? -1 : countryEnd - 1;
  fields.countryAscii = plainAscii;
  at = countryEnd;
  if (!startsWith(value, at, USERS)) return false;
  at += USERS.length;
  const usersEnd = nullOrPlainString(value, at);
  if (usersEnd < 0 || usersEnd !== value.length - 1 || value[usersEnd] !== 0x7d) return false;
  const userNull = value[at] !== QUOTE;
  fields.userFrom = userNull ? -1 : at + 1;
  fields.userTo = userNull ? -1 : usersEnd - 1;
  fields.userAscii = plainAscii;
  fields.windowStart = cache.start;
  fields.windowEnd = cache.end;
  return true;
}

/**
 * Puts the window's times in the cache: reused when its 48 bytes are the last value's, else
 * Date.parse of each (false when one is not a date, which the slow path then judges).
 */
function windowTimes(value: Buffer, startAt: number, endAt: number, cache: WindowCache): boolean {
  const known = cache.bytes;
  if (sameBytes(value, startAt, known, 0, ISO_LENGTH) && sameBytes(value, endAt, known, ISO_LENGTH, ISO_LENGTH)) return !Number.isNaN(cache.start);
  // Only printable ASCII without quote or backslash reads the same as text and as JSON.
  if (!printableAscii(value, startAt, startAt + ISO_LENGTH) || !printableAscii(value, endAt, endAt + ISO_LENGTH)) return false;
  const start = Date.parse(value.toString("latin1", startAt, startAt + ISO_LENGTH));
  const end = Date.parse(value.toString("latin1", endAt, endAt + ISO_LENGTH));
  if (Number.isNaN(start) || Number.isNaN(end)) return false;
  value.copy(known, 0, startAt, startAt + ISO_LENGTH);
  value.copy(known, ISO_LENGTH, endAt, endAt + ISO_LENGTH);
  cache.start = start;
  cache.end = end;
  return true;
}

/**
 * Where `null` or a string without escapes that starts at `at` ends (just past it), or -1. A
 * control character (never in a valid JSON string) or a backslash sends the value to JSON.parse;
 * the string's UTF-8 is decoded as it is, as JSON.parse of the decoded text would keep it.
 */
function nullOrPlainString(value: Buffer, at: number): number {
  plainAscii = true;
  if (startsWith(value, at, NULL)) return at + NULL.length;
  if (value[at] !== QUOTE) return -1;
  for (let i = at + 1; i < value.length; i++) {
    const byte = value[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte === BACKSLASH || byte < 0x20) return -1;
    if (byte >= 0x80) plainAscii = false;
  }
  return -1;
}

/** Whether the last string nullOrPlainString read was all ASCII (a second result, without an object per call). */
let plainAscii = true;

function printableAscii(value: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = value[i]!;
    if (byte < 0x20 || byte >= 0x7f || byte === QUOTE || byte === BACKSLASH) return false;
  }
  return true;
}

function startsWith(value: Buffer, at: number, expected: Buffer): boolean {
  return at + expected.length <= value.length && sameBytes(value, at, expected, 0, expected.length);
}
