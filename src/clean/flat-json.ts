/**
 * A fast path for the common message value: one flat JSON object in valid UTF-8. It reads the
 * bytes once and builds an object holding only the fields the cleaning rules read (id, first_name,
 * last_name, email, gender, ip_address, date, country), each with the value JSON.parse would give
 * it (the last one wins when a key repeats, as in JSON.parse); every other key is checked for
 * JSON syntax and skipped. That saves decoding the whole value into a string, JSON.parse's generic
 * object and the strings of the fields nobody reads.
 *
 * Guarantee: for any bytes, either undefined (the caller then takes the exact path: strict UTF-8
 * decode, then JSON.parse, with their errors) or an object whose own properties among those eight
 * names equal JSON.parse(strict decode of the bytes)'s (pinned by test/unit/clean/flat-json.test.ts
 * against that over random and mutated values). It gives up — undefined — on anything it does not
 * expect rather than guess: invalid UTF-8, a byte-order mark, a top-level value that is not an
 * object, a nested object or array, an escape in a key, any syntax error. Pure, never throws.
 */
import { isUtf8 } from "node:buffer";

/** The fields cleanParsed reads, as JSON.parse would give them (only the keys present are set). */
export type FlatFields = Partial<Record<FieldName, unknown>>;
type FieldName = "id" | "first_name" | "last_name" | "email" | "gender" | "ip_address" | "date" | "country";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const DOT = 0x2e;

/** Buffer's own slicers (what toString calls), without toString's argument checks. */
type Bytes = Buffer & { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string };

// The scan position (one module-level slot: parsing never interleaves).
let at = 0;

/** The fields of a flat JSON object in `value`, or undefined when the exact path must decide. */
export function parseFlatObject(value: Uint8Array): FlatFields | undefined {
  const buf = (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)) as Bytes;
  const end = buf.length;
  at = 0;
  skipSpace(buf, end);
  if (buf[at] !== OPEN_BRACE) return undefined; // also a byte-order mark, which the exact path drops
  if (!isUtf8(buf)) return undefined;
  at++;
  const fields: FlatFields = {};
  skipSpace(buf, end);
  if (buf[at] === CLOSE_BRACE) {
    at++;
    return atEnd(buf, end) ? fields : undefined;
  }
  for (;;) {
    if (buf[at] !== QUOTE) return undefined;
    const name = readKey(buf, end);
    if (name === null) return undefined;
    skipSpace(buf, end);
    if (buf[at] !== COLON) return undefined;
    at++;
    skipSpace(buf, end);
    const fieldValue = readValue(buf, end, name !== undefined);
    if (fieldValue === INVALID) return undefined;
    if (name !== undefined) fields[name] = fieldValue;
    skipSpace(buf, end);
    const next = buf[at];
    if (next === COMMA) {
      at++;
      skipSpace(buf, end);
      continue;
    }
    if (next !== CLOSE_BRACE) return undefined;
    at++;
    return atEnd(buf, end) ? fields : undefined;
  }
}

/** Nothing but JSON white space left. */
function atEnd(buf: Bytes, end: number): boolean {
  skipSpace(buf, end);
  return at === end;
}

/** JSON's white space: space, tab, line feed, carriage return. */
function skipSpace(buf: Bytes, end: number): void {
  while (at < end) {
    const byte = buf[at]!;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return;
    at++;
  }
}

/**
 * The key at `at` (on its opening quote): a field name the rules read, undefined for any other
 * key, null when the exact path must decide (an escape, a control character, no closing quote).
 */
function readKey(buf: Bytes, end: number): FieldName | undefined | null {
  const start = at + 1;
  let index = start;
  for (;;) {
    if (index >= end) return null;
    const byte = buf[index]!;
    if (byte === QUOTE) break;
    if (byte === BACKSLASH || byte < 0x20) return null;
    index++;
  }
  at = index + 1;
  return fieldName(buf, start, index - start);
}

function fieldName(buf: Bytes, start: number, length: number): FieldName | undefined {
  switch (length) {
    case 2:
      return buf[start] === 0x69 && buf[start + 1] === 0x64 ? "id" : undefined;
    case 4:
      return matches(buf, start, "date") ? "date" : undefined;
    case 5:
      return matches(buf, start, "email") ? "email" : undefined;
    case 6:
      return matches(buf, start, "gender") ? "gender" : undefined;
    case 7:
      return matches(buf, start, "country") ? "country" : undefined;
    case 9:
      return matches(buf, start, "last_name") ? "last_name" : undefined;
    case 10:
      return matches(buf, start, "first_name") ? "first_name" : matches(buf, start, "ip_address") ? "ip_address" : undefined;
    default:
      return undefined;
  }
}

function matches(buf: Bytes, start: number, name: string): boolean {
  for (let index = 0; index < name.length; index++) if (buf[start + index] !== name.charCodeAt(index)) return false;
  return true;
}

/** Returned by readValue when the exact path must decide. */
const INVALID = Symbol("invalid");

/** A string, number, true, false or null at `at`; built only when `keep` (else just checked). */
function readValue(buf: Bytes, end: number, keep: boolean): unknown {
  const first = buf[at];
  if (first === QUOTE) return readString(buf, end, keep);
  if (first === MINUS || (first !== undefined && first >= ZERO && first <= NINE)) return readNumber(buf, end);
  if (first === 0x74) return literal(buf, end, "true", true);
  if (first === 0x66) return literal(buf, end, "false", false);
  if (first === 0x6e) return literal(buf, end, "null", null);
  return INVALID; // an object, an array, or not JSON
}

function literal(buf: Bytes, end: number, text: string, result: boolean | null): unknown {
  if (at + text.length > end || !matches(buf, at, text)) return INVALID;
  at += text.length;
  return result;
}

/** A JSON string; one holding an escape is handed to JSON.parse alone (its exact reading). */
function readString(buf: Bytes, end: number, keep: boolean): unknown {
  const start = at + 1;
  let index = start;
  let ascii = true;
  let escaped = false;
  for (;;) {
    if (index >= end) return INVALID;
    const byte = buf[index]!;
    if (byte === QUOTE) break;
    if (byte < 0x20) return INVALID;
    if (byte === BACKSLASH) {
      escaped = true;
      index += 2; // the escaped character cannot end the string; JSON.parse checks the escape
      continue;
    }
    if (byte >= 0x80) ascii = false;
    index++;
  }
  at = index + 1;
  if (escaped) {
    try {
      const text: unknown = JSON.parse(buf.utf8Slice(start - 1, index + 1));
      return keep ? text : undefined;
    } catch {
      return INVALID;
    }
  }
  if (!keep) return undefined;
  return ascii ? buf.latin1Slice(start, index) : buf.utf8Slice(start, index);
}

/** A JSON number (RFC 8259 grammar), read as JSON.parse reads it. */
function readNumber(buf: Bytes, end: number): unknown {
  const start = at;
  let index = at;
  if (buf[index] === MINUS) index++;
  const intStart = index;
  if (buf[index] === ZERO) index++;
  else {
    if (!isDigit(buf[index])) return INVALID;
    while (isDigit(buf[index])) index++;
  }
  const intEnd = index;
  let plain = true;
  if (buf[index] === DOT) {
    plain = false;
    index++;
    if (!isDigit(buf[index])) return INVALID;
    while (isDigit(buf[index])) index++;
  }
  const exponent = buf[index];
  if (exponent === 0x65 || exponent === 0x45) {
    plain = false;
    index++;
    if (buf[index] === 0x2b || buf[index] === MINUS) index++;
    if (!isDigit(buf[index])) return INVALID;
    while (isDigit(buf[index])) index++;
  }
  if (index > end) return INVALID;
  at = index;
  if (plain && intEnd - intStart <= 15) {
    let result = 0;
    for (let digit = intStart; digit < intEnd; digit++) result = result * 10 + (buf[digit]! - ZERO);
    return start === intStart ? result : -result; // "-0" is -0, as in JSON.parse
  }
  return Number(buf.latin1Slice(start, index));
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= ZERO && byte <= NINE;
}
