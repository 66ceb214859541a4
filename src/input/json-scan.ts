/**
 * A strict JSON (RFC 8259) scanner over UTF-8 bytes, the one judge of what produce accepts. In a
 * single pass over one value it checks the grammar and the UTF-8 inside strings, builds the
 * compact text (white space outside strings removed, everything else byte for byte, so `1.0` and
 * ids beyond 2^53 stay as written) and notes where the top-level `id` value is. It works on a
 * byte range that may stop short of the value's end: it then says "incomplete" and the caller
 * retries with more bytes. Iterative, so no nesting depth can overflow the stack.
 */

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, CR, DOT, LF, MINUS, NINE, OPEN_BRACE, OPEN_BRACKET, QUOTE, SPACE, TAB, ZERO } from "./bytes.ts";

export const SCAN_OK = 0;
/** The bytes ran out before the value ended and more may come. */
export const SCAN_INCOMPLETE = 1;
export const SCAN_ERROR = 2;

export const ID_NONE = 0;
export const ID_NUMBER = 1;
/** A string id without escapes: the key is the text between the quotes. */
export const ID_PLAIN_STRING = 2;
/** A string id with escapes: the key needs JSON decoding. */
export const ID_ESCAPED_STRING = 3;

/** Numbers (not strings) because the hot loop compares them; the types keep them to their few values. */
export type ScanStatus = typeof SCAN_OK | typeof SCAN_INCOMPLETE | typeof SCAN_ERROR;
export type IdKind = typeof ID_NONE | typeof ID_NUMBER | typeof ID_PLAIN_STRING | typeof ID_ESCAPED_STRING;

/** Reusable scratch and result of `scanValue`; one per reader, so the hot loop allocates nothing. */
export interface ScanState {
  status: ScanStatus;
  /** Index just past the value (SCAN_OK). */
  end: number;
  /** Where the problem is (SCAN_ERROR): a byte index into the scanned array. */
  errorIndex: number;
  message: string;
  /** Line feeds inside the value (outside strings; inside them they are errors) and the last one's index. */
  newlines: number;
  lastNewline: number;
  /** The compact text, when the value had white space to remove; otherwise -1 and the value's own bytes are compact. */
  compactLength: number;
  compact: Uint8Array;
  /** The top-level `id` value (last one wins, as in JSON.parse), as offsets into the compact text. */
  idKind: IdKind;
  idStart: number;
  idEnd: number;
  /** Open containers: OBJECT or ARRAY per depth. */
  stack: Uint8Array;
  /** Whether the string scanned last held an escape. */
  stringHadEscape: boolean;
}

export function createScanState(): ScanState {
  return {
    status: SCAN_OK,
    end: 0,
    errorIndex: 0,
    message: "",
    newlines: 0,
    lastNewline: -1,
    compactLength: -1,
    compact: new Uint8Array(64 * 1024),
    idKind: ID_NONE,
    idStart: 0,
    idEnd: 0,
    stack: new Uint8Array(256),
    stringHadEscape: false,
  };
}


const OBJECT = 1;
const ARRAY = 2;

// What the scanner expects next.
const VALUE = 0;
const AFTER_VALUE = 1;
const FIRST_KEY_OR_CLOSE = 2;
const KEY = 3;
const FIRST_VALUE_OR_CLOSE = 4;
const COLON_NEXT = 5;

/** Returned by the token scanners when the bytes ran out (the state says whether that is an error). */
const RAN_OUT = -1;
const FAILED = -2;

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

const utf8 = new TextDecoder();

export const isJsonSpace = (byte: number): boolean => byte === SPACE || byte === LF || byte === CR || byte === TAB;

/**
 * Scans the one JSON value that starts at `start` (not white space) in `bytes[start, end)`.
 * `final` says no byte follows `end`: running out is then an error, and a number may end there.
 * The result is in `s`; on SCAN_OK the value ends at `s.end`, and what follows is the caller's.
 */
export function scanValue(bytes: Uint8Array, start: number, end: number, final: boolean, s: ScanState): void {
  s.newlines = 0;
  s.lastNewline = -1;
  s.compactLength = -1;
  s.idKind = ID_NONE;
  let i = start;
  let depth = 0;
  let expect = VALUE;
  // Compaction: bytes [copiedFrom, i) are still to be copied to s.compact[written...]; written < 0
  // until the first white space, so a value without any is never copied.
  let written = -1;
  let copiedFrom = start;
  let idPending = false;
  if (start >= end) return ranOut(s, start, final);

  for (;;) {
    if (depth > 0) {
      const spaceStart = i;
      while (i < end) {
        const byte = bytes[i]!;
        if (byte === SPACE || byte === TAB || byte === CR) i++;
        else if (byte === LF) {
          s.newlines++;
          s.lastNewline = i;
          i++;
        } else break;
      }
      if (i !== spaceStart) {
        if (written < 0) {
          // The compact text is never longer than the value: one allocation check per value.
          if (s.compact.length < end - start) s.compact = new Uint8Array(Math.max(end - start, s.compact.length * 2));
          written = 0;
        }
        written = copyBytes(bytes, copiedFrom, spaceStart, s.compact, written);
        copiedFrom = i;
      }
      if (i >= end) return ranOut(s, i, final);
    }

    const byte = bytes[i]!;
    if (expect === VALUE || expect === FIRST_VALUE_OR_CLOSE) {
      if (expect === FIRST_VALUE_OR_CLOSE && byte === CLOSE_BRACKET) {
        depth--;
        i++;
        expect = AFTER_VALUE;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (idPending) {
          s.idKind = ID_NONE;
          idPending = false;
        }
        if (depth === s.stack.length) {
          const grown = new Uint8Array(depth * 2);
          grown.set(s.stack);
          s.stack = grown;
        }
        s.stack[depth++] = byte === OPEN_BRACE ? OBJECT : ARRAY;
        i++;
        expect = byte === OPEN_BRACE ? FIRST_KEY_OR_CLOSE : FIRST_VALUE_OR_CLOSE;
        continue;
      } else {
        const valueStart = i;
        if (byte === QUOTE) i = scanString(bytes, i, end, s);
        else if (byte === MINUS || (byte >= ZERO && byte <= NINE)) i = scanNumber(bytes, i, end, final || depth > 0, s);
        else if (byte === 0x74) i = scanLiteral(bytes, i, end, TRUE, s);
        else if (byte === 0x66) i = scanLiteral(bytes, i, end, FALSE, s);
        else if (byte === 0x6e) i = scanLiteral(bytes, i, end, NULL, s);
        else return fail(s, i, `expected a value, found ${describeByte(bytes, i, end)}`);
        if (i === FAILED) return;
        if (i === RAN_OUT) return ranOut(s, end, final);
        if (idPending) {
          idPending = false;
          if (byte === QUOTE) s.idKind = s.stringHadEscape ? ID_ESCAPED_STRING : ID_PLAIN_STRING;
          else s.idKind = byte === MINUS || (byte >= ZERO && byte <= NINE) ? ID_NUMBER : ID_NONE;
          s.idStart = compactOffset(valueStart, start, copiedFrom, written);
          s.idEnd = s.idStart + (i - valueStart);
        }
        expect = AFTER_VALUE;
      }
      if (depth === 0) return succeed(s, bytes, i, copiedFrom, written);
      continue;
    }

    if (expect === COLON_NEXT) {
      if (byte !== COLON) return fail(s, i, `expected ':' after a property name, found ${describeByte(bytes, i, end)}`);
      i++;
      expect = VALUE;
      continue;
    }

    if (expect === AFTER_VALUE) {
      const container = s.stack[depth - 1]!;
      if (byte === COMMA) {
        i++;
        expect = container === OBJECT ? KEY : VALUE;
        continue;
      }
      if ((byte === CLOSE_BRACE && container === OBJECT) || (byte === CLOSE_BRACKET && container === ARRAY)) {
        depth--;
        i++;
        if (depth === 0) return succeed(s, bytes, i, copiedFrom, written);
        continue;
      }
      return fail(s, i, `expected ',' or '${container === OBJECT ? "}" : "]"}', found ${describeByte(bytes, i, end)}`);
    }

    // FIRST_KEY_OR_CLOSE or KEY: a property name, then ':'
    if (expect === FIRST_KEY_OR_CLOSE && byte === CLOSE_BRACE) {
      depth--;
      i++;
      expect = AFTER_VALUE;
      if (depth === 0) return succeed(s, bytes, i, copiedFrom, written);
      continue;
    }
    if (byte !== QUOTE) return fail(s, i, `expected a property name in double quotes, found ${describeByte(bytes, i, end)}`);
    const nameStart = i;
    i = scanString(bytes, i, end, s);
    if (i === FAILED) return;
    if (i === RAN_OUT) return ranOut(s, end, final);
    if (depth === 1) idPending = isIdName(bytes, nameStart, i, s.stringHadEscape);
    expect = COLON_NEXT;
  }
}

/** Scans the string starting at the quote at `i`; returns the index past its closing quote. */
function scanString(bytes: Uint8Array, i: number, end: number, s: ScanState): number {
  let escaped = false;
  let j = i + 1;
  for (;;) {
    if (j >= end) return RAN_OUT;
    const byte = bytes[j]!;
    if (byte >= SPACE && byte < 0x80 && byte !== QUOTE && byte !== BACKSLASH) {
      j++;
    } else if (byte === QUOTE) {
      s.stringHadEscape = escaped;
      return j + 1;
    } else if (byte === BACKSLASH) {
      if (j + 1 >= end) return RAN_OUT;
      const next = bytes[j + 1]!;
      if (next === 0x75 /* u */) {
        for (let k = 2; k < 6; k++) {
          if (j + k >= end) return RAN_OUT;
          if (!isHexDigit(bytes[j + k]!)) {
            fail(s, j, "invalid \\u escape in a string (expected 4 hex digits)");
            return FAILED;
          }
        }
        j += 6;
      } else if (
        next === QUOTE || next === BACKSLASH || next === 0x2f /* / */ || next === 0x62 /* b */ ||
        next === 0x66 /* f */ || next === 0x6e /* n */ || next === 0x72 /* r */ || next === 0x74 /* t */
      ) {
        j += 2;
      } else {
        fail(s, j, `invalid escape in a string: \\${describeChar(bytes, j + 1, end)}`);
        return FAILED;
      }
      escaped = true;
    } else if (byte < SPACE) {
      fail(s, j, byte === LF || byte === CR ? "line break inside a string (must be escaped as \\n)" : `control character U+${hex4(byte)} inside a string (must be escaped)`);
      return FAILED;
    } else {
      const length = utf8SequenceLength(bytes, j, end);
      if (length === RAN_OUT) return RAN_OUT;
      if (length === 0) {
        fail(s, j, "invalid UTF-8 inside a string");
        return FAILED;
      }
      j += length;
    }
  }
}

/**
 * Scans a number per RFC 8259 starting at `i`. `canEndHere`: a number that reaches `end` is
 * complete (the input ends there, or the number sits inside a container that must still close).
 */
function scanNumber(bytes: Uint8Array, i: number, end: number, canEndHere: boolean, s: ScanState): number {
  let j = i;
  if (bytes[j] === MINUS) j++;
  if (j >= end) return RAN_OUT;
  if (bytes[j] === ZERO) {
    j++;
    if (j < end && isDigit(bytes[j]!)) {
      fail(s, j, "a number cannot have a leading zero");
      return FAILED;
    }
  } else if (isDigit(bytes[j]!)) {
    while (j < end && isDigit(bytes[j]!)) j++;
  } else {
    fail(s, j, `expected a digit, found ${describeByte(bytes, j, end)}`);
    return FAILED;
  }
  if (j < end && bytes[j] === DOT) {
    j++;
    if (j >= end) return RAN_OUT;
    if (!isDigit(bytes[j]!)) {
      fail(s, j, `expected a digit after '.', found ${describeByte(bytes, j, end)}`);
      return FAILED;
    }
    while (j < end && isDigit(bytes[j]!)) j++;
  }
  if (j < end && (bytes[j] === 0x65 || bytes[j] === 0x45) /* e E */) {
    j++;
    if (j < end && (bytes[j] === 0x2b || bytes[j] === MINUS)) j++;
    if (j >= end) return RAN_OUT;
    if (!isDigit(bytes[j]!)) {
      fail(s, j, `expected a digit in the exponent, found ${describeByte(bytes, j, end)}`);
      return FAILED;
    }
    while (j < end && isDigit(bytes[j]!)) j++;
  }
  if (j >= end && !canEndHere) return RAN_OUT;
  return j;
}

function scanLiteral(bytes: Uint8Array, i: number, end: number, word: readonly number[], s: ScanState): number {
  for (let k = 0; k < word.length; k++) {
    if (i + k >= end) return RAN_OUT;
    if (bytes[i + k] !== word[k]) {
      fail(s, i, `expected a value, found ${describeWord(bytes, i, end)}`);
      return FAILED;
    }
  }
  return i + word.length;
}

/** Whether the property name bytes[start, end) (quotes included) is "id", escapes resolved. */
function isIdName(bytes: Uint8Array, start: number, end: number, escaped: boolean): boolean {
  if (!escaped) return end - start === 4 && bytes[start + 1] === 0x69 && bytes[start + 2] === 0x64;
  return JSON.parse(utf8.decode(bytes.subarray(start, end))) === "id";
}

/**
 * Length of the valid UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF),
 * 0 when it is invalid, RAN_OUT when it is a valid start cut short by `end`.
 */
function utf8SequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const lead = bytes[i]!;
  let continuations: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) continuations = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    continuations = 2;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    continuations = 3;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + 1 >= end) return RAN_OUT;
  const second = bytes[i + 1]!;
  if (second < low || second > high) return 0;
  for (let k = 2; k <= continuations; k++) {
    if (i + k >= end) return RAN_OUT;
    if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  }
  return continuations + 1;
}

function succeed(s: ScanState, bytes: Uint8Array, end: number, copiedFrom: number, written: number): void {
  s.status = SCAN_OK;
  s.end = end;
  if (written >= 0) s.compactLength = copyBytes(bytes, copiedFrom, end, s.compact, written);
}

function ranOut(s: ScanState, at: number, final: boolean): void {
  if (final) fail(s, at, "unexpected end of input inside a value");
  else s.status = SCAN_INCOMPLETE;
}

function fail(s: ScanState, at: number, message: string): void {
  s.status = SCAN_ERROR;
  s.errorIndex = at;
  s.message = message;
}

/** Where original index `index` (not yet copied) lands in the compact text. */
function compactOffset(index: number, start: number, copiedFrom: number, written: number): number {
  return written < 0 ? index - start : written + (index - copiedFrom);
}

/** Appends source[from, to) to target at `at`; short runs by hand, since most runs between spaces are a few bytes. */
function copyBytes(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): number {
  if (to - from > 32) {
    target.set(source.subarray(from, to), at);
    return at + (to - from);
  }
  for (let k = from; k < to; k++) target[at++] = source[k]!;
  return at;
}

const isDigit = (byte: number) => byte >= ZERO && byte <= NINE;
const isHexDigit = (byte: number) =>
  (byte >= ZERO && byte <= NINE) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
const hex4 = (code: number) => code.toString(16).toUpperCase().padStart(4, "0");

/** The byte at `i` as a user reads it in a message: a quoted character, "end of input", or a code. */
export function describeByte(bytes: Uint8Array, i: number, end: number): string {
  if (i >= end) return "end of input";
  const byte = bytes[i]!;
  if (byte === LF || byte === CR) return "a line break";
  if (byte < SPACE || byte === 0x7f) return `control character U+${hex4(byte)}`;
  return `'${describeChar(bytes, i, end)}'`;
}

function describeChar(bytes: Uint8Array, i: number, end: number): string {
  if (i >= end) return "end of input";
  const byte = bytes[i]!;
  if (byte < 0x80) return String.fromCharCode(byte);
  const length = utf8SequenceLength(bytes, i, end);
  return length > 0 ? utf8.decode(bytes.subarray(i, i + length)) : `\\x${byte.toString(16)}`;
}

/** A word-like run (for "found 'nul'" or "found 'True'"), at most 20 characters. */
function describeWord(bytes: Uint8Array, i: number, end: number): string {
  let j = i;
  while (j < end && j - i < 20 && ((bytes[j]! >= 0x61 && bytes[j]! <= 0x7a) || (bytes[j]! >= 0x41 && bytes[j]! <= 0x5a))) j++;
  return `'${utf8.decode(bytes.subarray(i, Math.max(j, i + 1)))}'`;
}
