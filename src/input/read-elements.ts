/**
 * Streams the elements of produce's input — a JSON array (any layout) or NDJSON — out of a byte
 * stream of any size, holding only the element being read. Tells the two apart by the first
 * non-blank character. Each element comes out as compact JSON text with its line number; an
 * NDJSON line that is not JSON comes out as a rejection; a broken array throws InputSyntaxError
 * with the line and column of the problem.
 */
import { InputSyntaxError } from "../errors.ts";
import { compactJson, findJsonProblem, idKey } from "./json-text.ts";

export type InputItem =
  | { readonly kind: "element"; readonly json: string; readonly key: string | undefined; readonly line: number; readonly bytes: number }
  | { readonly kind: "rejected"; readonly line: number; readonly reason: string };

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf] as const;

const isSpace = (byte: number) => byte === 0x20 || byte === LF || byte === CR || byte === 0x09;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes of the element being read; grows as needed, reused between elements. */
class ByteBuffer {
  bytes = new Uint8Array(64 * 1024);
  length = 0;
  append(chunk: Uint8Array, start: number, end: number): void {
    const needed = this.length + (end - start);
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk.subarray(start, end), this.length);
    this.length = needed;
  }
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
  reset(): void {
    this.length = 0;
    // A huge element should not pin its memory for the rest of the run.
    if (this.bytes.length > 16 * 1024 * 1024) this.bytes = new Uint8Array(64 * 1024);
  }
}

export async function* readElements(chunks: AsyncIterable<Uint8Array>, sourceName: string): AsyncGenerator<InputItem> {
  const iterator = chunks[Symbol.asyncIterator]();
  let first: Uint8Array | undefined;
  let skip = 0;
  // Find the first non-blank byte (past a BOM) to choose the format.
  while (true) {
    const next = await iterator.next();
    if (next.done) return;
    first = next.value;
    if (first.length >= 3 && first[0] === BOM[0] && first[1] === BOM[1] && first[2] === BOM[2]) first = first.subarray(3);
    skip = 0;
    while (skip < first.length && isSpace(first[skip]!)) skip++;
    if (skip < first.length) break;
    if (first.some((byte) => byte === LF)) {
      // leading blank lines are fine, but they count for line numbers
      yield* readWithLeadingBlank(first, iterator, sourceName);
      return;
    }
  }
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  if (first[skip] === OPEN_BRACKET) yield* readArray(prepend(first, rest), sourceName);
  else yield* readNdjson(prepend(first, rest), sourceName);
}

/** The input began with a chunk of only blank lines: decide the format on what follows, lines counted. */
async function* readWithLeadingBlank(
  blank: Uint8Array,
  iterator: AsyncIterator<Uint8Array>,
  sourceName: string,
): AsyncGenerator<InputItem> {
  const buffered: Uint8Array[] = [blank];
  while (true) {
    const next = await iterator.next();
    if (next.done) return;
    buffered.push(next.value);
    const index = next.value.findIndex((byte) => !isSpace(byte));
    if (index >= 0) {
      const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
      const all = prependMany(buffered, rest);
      if (next.value[index] === OPEN_BRACKET) yield* readArray(all, sourceName);
      else yield* readNdjson(all, sourceName);
      return;
    }
  }
}

async function* prepend(first: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  yield* rest;
}

async function* prependMany(first: Uint8Array[], rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* first;
  yield* rest;
}

/** Decodes and validates one element's bytes; the problem (if any) has a UTF-16 index into `text`, or a byte index for bad UTF-8. */
function examine(bytes: Uint8Array):
  | { ok: true; json: string; key: string | undefined }
  | { ok: false; message: string; byteIndex?: number; text?: string; index?: number } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, message: "invalid UTF-8", byteIndex: firstInvalidUtf8(bytes) };
  }
  let valid = true;
  try {
    JSON.parse(text);
  } catch {
    valid = false;
  }
  if (!valid) {
    // JSON.parse also refuses what is only too deep for it; our validator is the judge.
    const problem = findJsonProblem(text);
    if (problem) return { ok: false, message: problem.message, text, index: problem.index };
  }
  const json = compactJson(text);
  return { ok: true, json, key: idKey(json) };
}

async function* readNdjson(chunks: AsyncIterable<Uint8Array>, sourceName: string): AsyncGenerator<InputItem> {
  const line = new ByteBuffer();
  let lineNumber = 1;
  const finishLine = function* (): Generator<InputItem> {
    let end = line.length;
    const bytes = line.bytes;
    while (end > 0 && isSpace(bytes[end - 1]!)) end--;
    let start = 0;
    while (start < end && isSpace(bytes[start]!)) start++;
    if (start < end) {
      const result = examine(bytes.subarray(start, end));
      if (result.ok) yield { kind: "element", json: result.json, key: result.key, line: lineNumber, bytes: end - start };
      else {
        const column = result.text !== undefined ? columnOf(result.text, result.index!) : byteColumn(bytes.subarray(start, end), result.byteIndex ?? 0);
        yield { kind: "rejected", line: lineNumber, reason: `column ${column + start}: ${result.message}` };
      }
    }
    line.reset();
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, start)) {
      line.append(chunk, start, i);
      yield* finishLine();
      lineNumber++;
      start = i + 1;
    }
    if (start < chunk.length) line.append(chunk, start, chunk.length);
  }
  yield* finishLine();
}

/** 1-based column (in characters) of UTF-16 index `index` within a single-line text. */
function columnOf(text: string, index: number): number {
  let column = 1;
  for (let i = 0; i < index && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xdc00 || code > 0xdfff) column++; // a low surrogate continues the previous character
  }
  return column;
}

function byteColumn(bytes: Uint8Array, byteIndex: number): number {
  let column = 1;
  for (let i = 0; i < byteIndex; i++) if ((bytes[i]! & 0xc0) !== 0x80) column++;
  return column;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    try {
      strictUtf8.decode(bytes.subarray(0, i + 1));
    } catch {
      // the first prefix that cannot even be a truncated sequence points at the bad byte
      const probe = bytes.subarray(0, i + 1);
      if (!isTruncatedSequence(probe)) return i;
    }
  }
  return bytes.length;
}

function isTruncatedSequence(bytes: Uint8Array): boolean {
  // Walk back over continuation bytes to the lead byte and see whether more bytes were due.
  let lead = bytes.length - 1;
  while (lead > 0 && (bytes[lead]! & 0xc0) === 0x80 && bytes.length - lead < 4) lead--;
  const byte = bytes[lead]!;
  const expected = byte >= 0xf0 && byte <= 0xf4 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 && byte < 0xe0 ? 2 : 0;
  if (expected === 0) return false;
  try {
    strictUtf8.decode(bytes.subarray(0, lead));
  } catch {
    return false;
  }
  return bytes.length - lead < expected;
}

type ArrayPhase = "open" | "value" | "after-value" | "after-comma" | "closed";

/**
 * The array scanner: finds element boundaries byte by byte (strings, escapes, nesting), keeping
 * line and column, and hands each element's bytes to `examine`.
 */
async function* readArray(chunks: AsyncIterable<Uint8Array>, sourceName: string): AsyncGenerator<InputItem> {
  const element = new ByteBuffer();
  let phase: ArrayPhase = "open";
  let seenOpen = false;
  let line = 1;
  let column = 0; // column of the current byte once incremented; counts characters
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false;
  let elementLine = 1;
  let elementColumn = 1;

  const fail = (message: string, atLine = line, atColumn = column): never => {
    throw new InputSyntaxError(message, sourceName, atLine, atColumn);
  };

  const emit = (): InputItem => {
    const bytes = element.view();
    const result = examine(bytes);
    if (!result.ok) {
      const [errLine, errColumn] =
        result.text !== undefined
          ? advanceText(result.text, result.index!, elementLine, elementColumn)
          : advanceBytes(bytes, result.byteIndex ?? 0, elementLine, elementColumn);
      fail(result.message, errLine, errColumn);
    }
    const ok = result as { json: string; key: string | undefined };
    const item: InputItem = { kind: "element", json: ok.json, key: ok.key, line: elementLine, bytes: bytes.length };
    element.reset();
    return item;
  };

  for await (const chunk of chunks) {
    let elementStart = phase === "value" ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF) {
        line++;
        column = 0;
      } else if ((byte & 0xc0) !== 0x80) {
        column++;
      }
      if (phase === "value") {
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) {
            inString = false;
            if (depth === 0) {
              element.append(chunk, elementStart, i + 1);
              yield emit();
              phase = "after-value";
            }
          }
          continue;
        }
        if (scalar) {
          if (isSpace(byte) || byte === COMMA || byte === CLOSE_BRACKET) {
            element.append(chunk, elementStart, i);
            yield emit();
            phase = "after-value";
            scalar = false;
            // fall through: this byte is the separator
          } else continue;
        } else {
          if (byte === QUOTE) inString = true;
          else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
          else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
            depth--;
            if (depth === 0) {
              element.append(chunk, elementStart, i + 1);
              yield emit();
              phase = "after-value";
            }
          }
          continue;
        }
      }
      if (isSpace(byte)) continue;
      if (phase === "open") {
        if (!seenOpen) {
          seenOpen = true; // the '[' the format was chosen by
          continue;
        }
        if (byte === CLOSE_BRACKET) {
          phase = "closed";
          continue;
        }
        phase = "after-comma"; // the first element starts like any element after a comma
      }
      switch (phase) {
        case "after-comma":
          if (byte === CLOSE_BRACKET) fail("expected a value after ',', found ']'");
          if (byte === COMMA) fail("expected a value, found ','");
          phase = "value";
          elementStart = i;
          elementLine = line;
          elementColumn = column;
          if (byte === QUOTE) inString = true;
          else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth = 1;
          else scalar = true;
          continue;
        case "after-value":
          if (byte === COMMA) phase = "after-comma";
          else if (byte === CLOSE_BRACKET) phase = "closed";
          else fail(`expected ',' or ']' after an array element, found '${String.fromCharCode(byte)}'`);
          continue;
        case "closed":
          fail(`unexpected '${String.fromCharCode(byte)}' after the end of the array`);
      }
    }
    if (phase === "value" && elementStart >= 0) element.append(chunk, elementStart, chunk.length);
  }
  if (phase === "value" && scalar) {
    yield emit();
    phase = "after-value";
  }
  if ((phase as ArrayPhase) !== "closed") fail(phase === "value" ? "unexpected end of input inside an element" : "unexpected end of input: the array is not closed with ']'");
}

/** Line and column reached after `index` UTF-16 units of `text`, starting at (line, column). */
function advanceText(text: string, index: number, line: number, column: number): [number, number] {
  for (let i = 0; i < index && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF) {
      line++;
      column = 1;
    } else if (code < 0xdc00 || code > 0xdfff) column++;
  }
  return [line, column];
}

function advanceBytes(bytes: Uint8Array, byteIndex: number, line: number, column: number): [number, number] {
  for (let i = 0; i < byteIndex; i++) {
    if (bytes[i] === LF) {
      line++;
      column = 1;
    } else if ((bytes[i]! & 0xc0) !== 0x80) column++;
  }
  return [line, column];
}
