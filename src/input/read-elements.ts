/**
 * Streams the elements of produce's input — a JSON array (any layout) or NDJSON — out of a byte
 * stream of any size, holding only the bytes of the element being read. The first non-blank
 * character chooses the format (`[` → array). Each element comes out as compact JSON (its own
 * bytes minus white space, see json-scan.ts) with its line number and message key, both as UTF-8
 * bytes ready for the record: never decoded to a string and encoded again; an NDJSON
 * line that is not JSON comes out as a rejection; a broken array throws InputSyntaxError with the
 * line and column (1-based, in characters) of the problem, after every element before it.
 */
import { InputSyntaxError } from "../errors.ts";
import {
  ID_ESCAPED_STRING,
  ID_NONE,
  ID_NUMBER,
  ID_PLAIN_STRING,
  SCAN_ERROR,
  SCAN_INCOMPLETE,
  createScanState,
  describeByte,
  isJsonSpace,
  scanValue,
  type ScanState,
} from "./json-scan.ts";
import { CLOSE_BRACKET, COMMA, LF, OPEN_BRACKET } from "./bytes.ts";

export type InputItem =
  | {
      readonly kind: "element";
      /** The compact JSON text, UTF-8: a view of a slab that later elements share, never rewritten (the scanner's own buffers are reused). */
      readonly value: Buffer;
      /** The key's UTF-8 bytes: a view into `value` unless the id held escapes. */
      readonly key: Buffer | undefined;
      readonly line: number;
      readonly bytes: number;
    }
  | { readonly kind: "rejected"; readonly line: number; readonly reason: string };

/**
 * Where a reader puts what it finds in one chunk of the input, and takes it from as one batch:
 * InputItems on this thread (createItemSink), packed arrays for the scan worker's message
 * (packed-items.ts), so the worker never makes an object per element only to pack it.
 */
export interface BatchSink<B> {
  readonly size: number;
  /** The element `scan` found at `start` in `bytes`: its compact text is `scan.compact` when the scan made one, else `bytes[start, scan.end)`. */
  element(bytes: Uint8Array, start: number, scan: ScanState, line: number): void;
  rejected(line: number, reason: string): void;
  /** What was put since the last take, in order; the sink starts again empty. */
  take(): B;
}

/** Past this, a buffer that held one huge element is dropped once that element is done. */
const KEEP_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * The unread bytes and where they sit in the text. `bytes` is the input's own chunk while it is
 * being read (no copy); only the tail of an unfinished element is copied into `owned`, before the
 * next chunk is awaited, so a source may reuse its chunk buffers.
 */
interface Window {
  bytes: Uint8Array;
  pos: number;
  owned: Uint8Array;
  /** Line number of the line that starts at `lineStart`. */
  line: number;
  /** Index in `bytes` where the current line starts (≤ pos). */
  lineStart: number;
  /** Characters of the current line that were before `lineStart` and have been dropped. */
  columnBase: number;
}

function createWindow(): Window {
  return { bytes: new Uint8Array(0), pos: 0, owned: new Uint8Array(64 * 1024), line: 1, lineStart: 0, columnBase: 0 };
}

/** Adds a chunk after the unread bytes, which `keepUnread` has put at the front of `owned`. */
function append(window: Window, chunk: Uint8Array): void {
  const unread = window.bytes.length;
  if (unread === 0) {
    window.bytes = chunk;
    return;
  }
  const needed = unread + chunk.length;
  if (window.owned.length < needed) {
    const grown = new Uint8Array(Math.max(needed, window.owned.length * 2));
    grown.set(window.bytes);
    window.owned = grown;
  }
  window.owned.set(chunk, unread);
  window.bytes = window.owned.subarray(0, needed);
}

/** Moves the unread bytes to the front of `owned`, so the source's chunk is no longer needed. */
function keepUnread(window: Window): void {
  const unread = window.bytes.length - window.pos;
  dropRead(window);
  if (unread === 0) {
    window.bytes = window.owned.subarray(0, 0);
    window.pos = 0;
    window.lineStart = 0;
    if (window.owned.length > KEEP_BUFFER_BYTES) window.owned = new Uint8Array(64 * 1024);
    return;
  }
  if (window.bytes.buffer === window.owned.buffer && window.bytes.byteOffset === window.owned.byteOffset) {
    if (window.pos > 0) window.owned.copyWithin(0, window.pos, window.bytes.length);
  } else {
    if (window.owned.length < unread) window.owned = new Uint8Array(Math.max(unread, window.owned.length * 2));
    window.owned.set(window.bytes.subarray(window.pos));
  }
  window.lineStart -= window.pos;
  window.bytes = window.owned.subarray(0, unread);
  window.pos = 0;
}

/** Accounts for the bytes before `pos` leaving the window: their characters on the current line. */
function dropRead(window: Window): void {
  if (window.lineStart < window.pos) {
    window.columnBase += countCharacters(window.bytes, window.lineStart, window.pos);
    window.lineStart = window.pos;
  }
}

function countCharacters(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if ((bytes[i]! & 0xc0) !== 0x80) count++;
  return count;
}

/** Line and column (1-based, characters) of index `at`, which is on or after the current line's start. */
function locate(window: Window, at: number): { line: number; column: number } {
  let line = window.line;
  let column = window.columnBase + 1;
  const bytes = window.bytes;
  for (let i = window.lineStart; i < at && i < bytes.length; i++) {
    if (bytes[i] === LF) {
      line++;
      column = 1;
    } else if ((bytes[i]! & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}

/** Consumes blank bytes from `pos`, counting lines. */
function skipBlank(window: Window): void {
  const bytes = window.bytes;
  let i = window.pos;
  while (i < bytes.length && isJsonSpace(bytes[i]!)) {
    if (bytes[i] === LF) {
      window.line++;
      window.lineStart = i + 1;
      window.columnBase = 0;
    }
    i++;
  }
  window.pos = i;
}

/** Moves `pos` past a scanned value, following the line breaks inside it. */
function passValue(window: Window, scan: ScanState): void {
  if (scan.newlines > 0) {
    window.line += scan.newlines;
    window.lineStart = scan.lastNewline + 1;
    window.columnBase = 0;
  }
  window.pos = scan.end;
}

/**
 * Where elements' bytes are copied: one large buffer shared by many elements, each a view of its
 * own region, instead of a Buffer of its own per element (an allocation per element kept the
 * garbage collector busy: a third of produce's time went to the copies and views). A region is
 * written once; a full slab is left to the elements that view it and a new one is started.
 */
interface Slab {
  bytes: Buffer;
  used: number;
}

const SLAB_BYTES = 256 * 1024;
/** An element larger than this gets a Buffer of its own, so a slab holds many. */
const OWN_BUFFER_BYTES = SLAB_BYTES / 8;

function createSlab(): Slab {
  return { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), used: 0 };
}

function copyOut(slab: Slab, source: Uint8Array, from: number, length: number): Buffer {
  if (length > OWN_BUFFER_BYTES) return Buffer.copyBytesFrom(source, from, length);
  if (slab.used + length > slab.bytes.length) {
    slab.bytes = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slab.used = 0;
  }
  const at = slab.used;
  // Buffer's copy takes any Uint8Array as its source, without the view set() would need.
  Buffer.prototype.copy.call(source, slab.bytes, at, from, from + length);
  slab.used = at + length;
  return slab.bytes.subarray(at, at + length);
}

/** The items as InputItems, each value a view of a slab. */
export function createItemSink(): BatchSink<InputItem[]> {
  const slab = createSlab();
  let items: InputItem[] = [];
  return {
    get size() {
      return items.length;
    },
    element(bytes, start, scan, line) {
      const value = scan.compactLength < 0 ? copyOut(slab, bytes, start, scan.end - start) : copyOut(slab, scan.compact, 0, scan.compactLength);
      items.push({ kind: "element", value, key: keyOf(value, scan), line, bytes: scan.end - start });
    },
    rejected(line, reason) {
      items.push({ kind: "rejected", line, reason });
    },
    take() {
      const taken = items;
      items = [];
      return taken;
    },
  };
}

/**
 * The message key: a string id as is, a number id exactly as written; no key for anything else
 * (no id, null, a boolean, an object or array, or an element that is not an object). The key's
 * bytes are the id's own, so only an id with escapes is decoded (and its result encoded).
 */
function keyOf(value: Buffer, scan: ScanState): Buffer | undefined {
  if (scan.idKind === ID_NONE) return undefined;
  if (scan.idKind === ID_NUMBER) return value.subarray(scan.idStart, scan.idEnd);
  if (scan.idKind === ID_PLAIN_STRING) return value.subarray(scan.idStart + 1, scan.idEnd - 1);
  return escapedKey(value, scan);
}

/** The key of an id with escapes, decoded from the compact text `value` (whose `scan.idStart` it is) and encoded again. */
export function escapedKey(value: Uint8Array, scan: ScanState): Buffer {
  const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8", scan.idStart, scan.idEnd);
  return Buffer.from(JSON.parse(text) as string, "utf8");
}

function shrinkScratch(scan: ScanState): void {
  if (scan.compact.length > KEEP_BUFFER_BYTES) scan.compact = new Uint8Array(64 * 1024);
}

/** The items one at a time (readElementBatches, flattened). */
export async function* readElements(chunks: AsyncIterable<Uint8Array>, sourceName: string): AsyncGenerator<InputItem> {
  for await (const batch of readElementBatches(chunks, sourceName)) yield* batch;
}

/**
 * The items in input order, in batches of those found in one chunk of the input: a step of an
 * async generator per element cost produce more than reading the element. Every item before a
 * syntax error comes out before the error is thrown.
 */
export function readElementBatches(chunks: AsyncIterable<Uint8Array>, sourceName: string): AsyncGenerator<InputItem[]> {
  return readBatches(chunks, sourceName, createItemSink());
}

/** The reader itself: each batch is what `sink` was given from one chunk, taken before the next chunk is awaited. */
export async function* readBatches<B>(chunks: AsyncIterable<Uint8Array>, sourceName: string, sink: BatchSink<B>): AsyncGenerator<B> {
  const iterator = chunks[Symbol.asyncIterator]();
  const window = createWindow();
  let ended = false;
  /** Reads the next chunk into the window; false at the end of the input. */
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    keepUnread(window);
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      return false;
    }
    append(window, next.value);
    return true;
  };

  try {
    while (window.bytes.length - window.pos < 3 && (await more()));
    const bytes = window.bytes;
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      window.pos = 3;
      window.lineStart = 3;
    }
    for (;;) {
      skipBlank(window);
      if (window.pos < window.bytes.length) break;
      if (!(await more())) return;
    }
    if (window.bytes[window.pos] === OPEN_BRACKET) yield* readArray(window, more, sourceName, sink);
    else yield* readNdjson(window, more, sink);
  } finally {
    // The consumer may stop early (a limit, a signal): let the source close its file.
    if (!ended) await iterator.return?.();
  }
}

async function* readNdjson<B>(window: Window, more: () => Promise<boolean>, sink: BatchSink<B>): AsyncGenerator<B> {
  const scan = createScanState();
  // How far from `pos` the current chunk has been searched for a line feed already.
  let searched = 0;
  for (;;) {
    const bytes = window.bytes;
    let lineFeed = bytes.indexOf(LF, window.pos + searched);
    while (lineFeed !== -1) {
      ndjsonLine(window, lineFeed, scan, sink);
      window.line++;
      window.pos = lineFeed + 1;
      window.lineStart = window.pos;
      window.columnBase = 0;
      lineFeed = bytes.indexOf(LF, window.pos);
    }
    if (sink.size > 0) yield sink.take();
    searched = bytes.length - window.pos;
    if (!(await more())) break;
  }
  if (window.pos < window.bytes.length) {
    ndjsonLine(window, window.bytes.length, scan, sink);
    if (sink.size > 0) yield sink.take();
  }
}

/** The line from `pos` to `end`: an element, a rejection, or nothing when it is blank. */
function ndjsonLine<B>(window: Window, end: number, scan: ScanState, sink: BatchSink<B>): void {
  const bytes = window.bytes;
  let start = window.pos;
  while (start < end && isJsonSpace(bytes[start]!)) start++;
  while (end > start && isJsonSpace(bytes[end - 1]!)) end--;
  if (start === end) return;
  scanValue(bytes, start, end, true, scan);
  if (scan.status !== SCAN_ERROR && scan.end === end) {
    sink.element(bytes, start, scan, window.line);
    shrinkScratch(scan);
    return;
  }
  let at = scan.errorIndex;
  let problem = scan.message;
  if (scan.status !== SCAN_ERROR) {
    at = scan.end;
    while (isJsonSpace(bytes[at]!)) at++;
    problem = `unexpected ${describeByte(bytes, at, end)} after the value (one JSON value per line)`;
  }
  shrinkScratch(scan);
  sink.rejected(window.line, `column ${locate(window, at).column}: ${problem}`);
}

// Where the array reader is: before '[', after '[', after ',', after an element, after ']'.
const OPENING = 0;
const FIRST = 1;
const NEXT = 2;
const AFTER_ELEMENT = 3;
const CLOSED = 4;

async function* readArray<B>(window: Window, more: () => Promise<boolean>, sourceName: string, sink: BatchSink<B>): AsyncGenerator<B> {
  const scan = createScanState();
  // The sink holds the elements of the chunk at hand: handed out before the next chunk is awaited, and before a syntax error is thrown.
  const fail = (message: string, at: number): never => {
    const { line, column } = locate(window, at);
    throw new InputSyntaxError(message, sourceName, line, column);
  };
  try {
    let phase = OPENING;
    let final = false;
    // After an element ran past the bytes at hand, wait until there are this many before scanning it
    // again: doubling keeps a huge element's total rescanning linear.
    let waitFor = 0;
    for (;;) {
      scanning: for (;;) {
        skipBlank(window);
        const bytes = window.bytes;
        const at = window.pos;
        if (at >= bytes.length) break;
        const byte = bytes[at]!;
        switch (phase) {
          case OPENING:
            window.pos++; // the '[' that chose the format
            phase = FIRST;
            continue;
          case FIRST:
          case NEXT: {
            if (byte === CLOSE_BRACKET) {
              if (phase === NEXT) fail("expected a value after ',', found ']' (a trailing comma)", at);
              window.pos++;
              phase = CLOSED;
              continue;
            }
            if (bytes.length - at < waitFor && !final) break scanning;
            scanValue(bytes, at, bytes.length, final, scan);
            if (scan.status === SCAN_INCOMPLETE) {
              waitFor = 2 * (bytes.length - at);
              break scanning;
            }
            waitFor = 0;
            if (scan.status === SCAN_ERROR) fail(scan.message, scan.errorIndex);
            // A number that runs into the end of the input may have been cut there (a truncated
            // `123456` ends as `123`): inside an array a ',' or ']' must follow, so it is the
            // unclosed array's error, and the number is not published as if it were whole.
            if (final && scan.end === bytes.length && (byte === 0x2d || (byte >= 0x30 && byte <= 0x39))) {
              fail("unexpected end of input: the array is not closed with ']'", bytes.length);
            }
            // skipBlank has counted the lines up to `at`.
            sink.element(bytes, at, scan, window.line);
            shrinkScratch(scan);
            passValue(window, scan);
            phase = AFTER_ELEMENT;
            continue;
          }
          case AFTER_ELEMENT:
            if (byte === COMMA) phase = NEXT;
            else if (byte === CLOSE_BRACKET) phase = CLOSED;
            else fail(`expected ',' or ']' after an array element, found ${describeByte(bytes, at, bytes.length)}`, at);
            window.pos++;
            continue;
          default:
            fail(`unexpected ${describeByte(bytes, at, bytes.length)} after the end of the array`, at);
        }
      }
      if (sink.size > 0) yield sink.take();
      if (final) break;
      final = !(await more());
    }
    if (phase !== CLOSED) {
      fail(
        phase === NEXT ? "unexpected end of input: expected a value after ','" : "unexpected end of input: the array is not closed with ']'",
        window.bytes.length,
      );
    }
  } catch (error) {
    if (sink.size > 0) yield sink.take();
    throw error;
  }
}
