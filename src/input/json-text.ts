/**
 * Pure helpers over one JSON element's text: compacting it without re-serialising (so numbers
 * stay exactly as written), reading its top-level `id` as the message key, and locating the
 * first syntax error precisely (JSON.parse says that something is wrong, not where).
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isJsonSpace = (code: number) => code === SPACE || code === LF || code === CR || code === TAB;

/** The element without white space outside strings; returns the same string when there is none. */
export function compactJson(text: string): string {
  let inString = false;
  let segmentStart = 0;
  let parts: string[] | undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (isJsonSpace(code)) {
      (parts ??= []).push(text.slice(segmentStart, i));
      while (i + 1 < text.length && isJsonSpace(text.charCodeAt(i + 1))) i++;
      segmentStart = i + 1;
    }
  }
  if (!parts) return text;
  parts.push(text.slice(segmentStart));
  return parts.join("");
}

/**
 * The message key: the top-level `id` of an object, a string id as is, a number exactly as
 * written; anything else (no id, null, boolean, object, not an object) gives no key. Works on
 * compact text, and takes the last `id` when there are several, as JSON.parse does.
 */
export function idKey(compact: string): string | undefined {
  if (compact.charCodeAt(0) !== 0x7b /* { */) return undefined;
  let key: string | undefined;
  let i = 1;
  while (i < compact.length && compact.charCodeAt(i) === QUOTE) {
    const nameEnd = skipString(compact, i);
    const rawName = compact.slice(i, nameEnd);
    const isId = rawName === '"id"' || (rawName.includes("\\") && safeParse(rawName) === "id");
    const valueStart = nameEnd + 1; // past ':'
    const valueEnd = skipValue(compact, valueStart);
    if (isId) {
      const first = compact.charCodeAt(valueStart);
      if (first === QUOTE) key = safeParse(compact.slice(valueStart, valueEnd)) as string | undefined;
      else if (first === 0x2d || (first >= 0x30 && first <= 0x39)) key = compact.slice(valueStart, valueEnd);
      else key = undefined;
    }
    i = valueEnd + 1; // past ',' or '}'
  }
  return key;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Index just past the string that starts at `start` (a quote). */
function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i++;
    else if (code === QUOTE) return i + 1;
  }
  return text.length;
}

/** Index just past the value that starts at `start`, in compact text. */
function skipValue(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = skipString(text, i) - 1;
      if (depth === 0) return i + 1;
    } else if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (code === 0x2c && depth === 0) return i;
  }
  return text.length;
}

export interface JsonSyntaxProblem {
  /** UTF-16 index in the text where the problem is. */
  readonly index: number;
  readonly message: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"] as const;

/**
 * Validates one JSON text (RFC 8259) and returns its first problem, or undefined when it is valid.
 * Iterative, so hostile nesting cannot overflow the stack.
 */
export function findJsonProblem(text: string): JsonSyntaxProblem | undefined {
  const stack: number[] = []; // 0x7b for an object, 0x5b for an array
  let i = 0;
  const describe = (index: number) => (index >= text.length ? "end of input" : `'${text[index]}'`);
  const skipSpace = () => {
    while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  };
  const readString = (): JsonSyntaxProblem | undefined => {
    i++;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === QUOTE) {
        i++;
        return undefined;
      }
      if (code < 0x20) return { index: i, message: "control character in a string (must be escaped)" };
      if (code === BACKSLASH) {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { index: i, message: "invalid \\u escape" };
          i += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) return { index: i, message: "invalid escape in a string" };
        i += 2;
        continue;
      }
      i++;
    }
    return { index: i, message: "unterminated string" };
  };

  let expectValue = true;
  skipSpace();
  while (true) {
    if (expectValue) {
      const code = text.charCodeAt(i);
      if (code === QUOTE) {
        const problem = readString();
        if (problem) return problem;
      } else if (code === 0x7b || code === 0x5b) {
        stack.push(code);
        i++;
        skipSpace();
        const close = code === 0x7b ? 0x7d : 0x5d;
        if (text.charCodeAt(i) === close) {
          stack.pop();
          i++;
        } else if (code === 0x7b) {
          if (text.charCodeAt(i) !== QUOTE) return { index: i, message: `expected a property name, found ${describe(i)}` };
          const problem = readString();
          if (problem) return problem;
          skipSpace();
          if (text.charCodeAt(i) !== 0x3a) return { index: i, message: `expected ':' after a property name, found ${describe(i)}` };
          i++;
          skipSpace();
          continue;
        } else {
          continue;
        }
      } else {
        NUMBER.lastIndex = i;
        if ((code === 0x2d || (code >= 0x30 && code <= 0x39)) && NUMBER.test(text)) {
          i = NUMBER.lastIndex;
        } else {
          const literal = LITERALS.find((word) => text.startsWith(word, i));
          if (!literal) return { index: i, message: `unexpected ${describe(i)}` };
          i += literal.length;
        }
      }
      expectValue = false;
    }
    skipSpace();
    const container = stack.at(-1);
    if (container === undefined) {
      return i < text.length ? { index: i, message: `unexpected ${describe(i)} after the value` } : undefined;
    }
    const code = text.charCodeAt(i);
    const close = container === 0x7b ? 0x7d : 0x5d;
    if (code === 0x2c) {
      i++;
      skipSpace();
      if (container === 0x7b) {
        if (text.charCodeAt(i) !== QUOTE) return { index: i, message: `expected a property name, found ${describe(i)}` };
        const problem = readString();
        if (problem) return problem;
        skipSpace();
        if (text.charCodeAt(i) !== 0x3a) return { index: i, message: `expected ':' after a property name, found ${describe(i)}` };
        i++;
        skipSpace();
      }
      expectValue = true;
    } else if (code === close) {
      stack.pop();
      i++;
    } else {
      return { index: i, message: `expected ',' or '${String.fromCharCode(close)}', found ${describe(i)}` };
    }
  }
}
