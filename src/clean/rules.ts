/**
 * One pure function per cleaning rule of SPEC.md ("Cleaning rules"). A field whose value is not a
 * string counts as missing, except `id`; "trimmed" and "white space" mean what
 * String.prototype.trim means (Unicode white space and line terminators). None of these throws.
 */

// ---- text fields ----------------------------------------------------------------------------

/**
 * The trimmed text of a string field, or undefined when the field is missing, not a string or
 * blank. Lone surrogates become U+FFFD here, because that is what any UTF-8 writer (Parquet, Kafka)
 * stores: the row then holds exactly what lands on disk, and cleaning it again changes nothing.
 */
function trimmedText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** `first_name`: trimmed; missing, null or blank → the placeholder. */
export function cleanFirstName(value: unknown, placeholder: string): string {
  return trimmedText(value) ?? placeholder;
}

/** `last_name`: trimmed; missing, null or blank → null. */
export function cleanLastName(value: unknown): string | null {
  return trimmedText(value) ?? null;
}

/**
 * `email`: trimmed and lower-cased; missing, null or blank → the placeholder. An email equal to
 * the placeholder stays as it is (not lower-cased), so that cleaning a cleaned row changes nothing.
 */
export function cleanEmail(value: unknown, placeholder: string): string {
  const text = trimmedText(value);
  return text === undefined || text === placeholder ? placeholder : text.toLowerCase();
}

/** `gender`: trimmed; missing, null or blank → null. */
export function cleanGender(value: unknown): string | null {
  return trimmedText(value) ?? null;
}

/**
 * A bounded memo for a per-record text rule (the country's title case). Real data repeats a few
 * hundred countries, and a lookup costs a tenth of cleaning again. Long texts are not kept (a
 * hostile 10 MB value must not stay in memory), and the memo is emptied when full: at most
 * MEMO_ENTRIES texts of up to 64 characters, a few MB. (Dates are read by their steps instead: in
 * stream-clean a lookup among thousands of dates cost more than reading ten characters.)
 */
const MEMO_ENTRIES = 16_384;

function memoize(rule: (text: string) => string | null): (text: string) => string | null {
  const memo = new Map<string, string | null>();
  return (text) => {
    if (text.length > 64) return rule(text);
    const known = memo.get(text);
    if (known !== undefined) return known;
    const result = rule(text);
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(text, result);
    return result;
  };
}

// ---- id ---------------------------------------------------------------------------------------

const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

/** `id`: a JSON integer, an integral number (1.0), or a decimal-digit string (sign and white space allowed); a safe integer. */
export function cleanId(value: unknown): number | undefined {
  let id: number;
  if (typeof value === "number") {
    id = value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (!DECIMAL_INTEGER.test(text)) return undefined;
    id = Number(text);
  } else {
    return undefined;
  }
  if (!Number.isSafeInteger(id)) return undefined;
  return id === 0 ? 0 : id; // -0 would be written as a distinct value by some readers
}

/** Why a raw id is refused, in a few words for the dead-letter header; safe for any JSON value. */
export function describeBadId(value: unknown): string {
  if (value === undefined) return "id is missing";
  if (value === null) return "id is null";
  if (Array.isArray(value)) return "id is an array, not an integer";
  switch (typeof value) {
    case "number":
      return Number.isInteger(value) ? `id ${value} is beyond the safe integer range (±(2^53−1))` : `id ${value} is not an integer`;
    case "string": {
      const shown = JSON.stringify(shorten(value, 60));
      return DECIMAL_INTEGER.test(value.trim()) ? `id ${shown} is beyond the safe integer range (±(2^53−1))` : `id ${shown} is not a decimal integer`;
    }
    case "boolean":
      return `id is a boolean (${value}), not an integer`;
    default:
      return `id is ${typeof value === "object" ? "an object" : `a ${typeof value}`}, not an integer`;
  }
}

/** At most `max` UTF-16 units, never cutting a surrogate pair in two, "…" when cut. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

// ---- ip_address -------------------------------------------------------------------------------

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** Four decimal octets 0–255 joined by dots, no leading zeros, nothing else. */
export function isDottedQuad(text: string): boolean {
  return DOTTED_QUAD.test(text);
}

/** `ip_addr` (from `ip_address`): trimmed; kept if a dotted-quad IPv4 address, else the default. */
export function cleanIp(value: unknown, defaultIp: string): string {
  if (typeof value !== "string") return defaultIp;
  const text = value.trim();
  return DOTTED_QUAD.test(text) ? text : defaultIp;
}

// ---- country ----------------------------------------------------------------------------------

const WHITE_SPACE_RUN = /\s+/; // \s is the same set of code points that trim() removes

/**
 * `country`: trimmed, white space runs collapsed to one space, the whole text lower-cased, then
 * the first character of each space-separated word upper-cased (`côte d'ivoire` → `Côte D'ivoire`).
 */
export function cleanCountry(value: unknown): string | null {
  return typeof value === "string" ? memoizedCountry(value) : null;
}

const memoizedCountry = memoize((value) => {
  const text = trimmedText(value);
  if (text === undefined) return null;
  const words = text.toLowerCase().split(WHITE_SPACE_RUN);
  let result = capitalize(words[0]!);
  for (let index = 1; index < words.length; index++) result += ` ${capitalize(words[index]!)}`;
  return result;
});

function capitalize(word: string): string {
  const width = word.codePointAt(0)! > 0xffff ? 2 : 1;
  const head = word.slice(0, width);
  const upper = head.toUpperCase();
  if (upper.length === head.length) return upper + word.slice(width);
  // A few characters upper-case to several (ß → SS, ﬁ → FI, ŉ → ʼN). Keep only the first one
  // upper-case, as title case does (ß → Ss): cleaning the result again then gives the same text.
  const firstWidth = upper.codePointAt(0)! > 0xffff ? 2 : 1;
  return upper.slice(0, firstWidth) + upper.slice(firstWidth).toLowerCase() + word.slice(width);
}

// ---- date -------------------------------------------------------------------------------------

/** dd/MM/yyyy for a value in an accepted form that is a real calendar date; null otherwise. */
export type DateMatcher = (value: unknown) => string | null;

/** The default accepted forms (SPEC.md): day first with 1 or 2 digits, or ISO with an optional time. */
export const DEFAULT_DATE_FORMATS: readonly string[] = ["d/M/yyyy", "yyyy-MM-dd"];

type DateField = "year" | "month" | "day";

const TOKENS: Readonly<Record<string, { field: DateField; source: string; fixedWidth: boolean; min: number; max: number }>> = {
  yyyy: { field: "year", source: "([0-9]{4})", fixedWidth: true, min: 4, max: 4 },
  MM: { field: "month", source: "([0-9]{2})", fixedWidth: true, min: 2, max: 2 },
  M: { field: "month", source: "([0-9]{1,2})", fixedWidth: false, min: 1, max: 2 },
  dd: { field: "day", source: "([0-9]{2})", fixedWidth: true, min: 2, max: 2 },
  d: { field: "day", source: "([0-9]{1,2})", fixedWidth: false, min: 1, max: 2 },
};

/** A pattern that starts with this may be followed in the value by `T` or a space and a time, which is ignored. */
const ISO_DATE_PREFIX = "yyyy-MM-dd";
/** hh[:mm[:ss[.fff]]] and an optional zone (Z, UTC, ±hh[:mm]); the colons may be left out (ISO basic form). */
const TIME_SUFFIX = "(?:[Tt ][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:[.,][0-9]{1,9})?)?)? ?(?:[Zz]|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?)?";

/**
 * One step of a date form, matched character by character: a field's digits (greedy: a 1-2 digit
 * field is always followed by a separator or the end, which is never a digit, so taking two
 * digits when there are two is what the regex's backtracking ends with), or one separator
 * (`literal`, a UTF-16 code unit). One shape for both kinds keeps the loop over them monomorphic.
 */
interface DateStep {
  /** FIELD_YEAR, FIELD_MONTH or FIELD_DAY; NOT_A_FIELD for a separator. */
  readonly field: number;
  readonly min: number;
  readonly max: number;
  readonly literal: number;
}

const NOT_A_FIELD = -1;
const FIELD_YEAR = 0;
const FIELD_MONTH = 1;
const FIELD_DAY = 2;
const FIELD_NUMBERS: Readonly<Record<DateField, number>> = { year: FIELD_YEAR, month: FIELD_MONTH, day: FIELD_DAY };

interface CompiledDateFormat {
  readonly regex: RegExp;
  /** Capture-group numbers of the year, month and day. */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** The same form as steps: what matchDate tries first, without the regex. */
  readonly steps: readonly DateStep[];
  /** An ISO form: text after the date may be a time, which only the regex reads. */
  readonly timeAllowed: boolean;
}

type DateFormatCompilation = { readonly ok: true; readonly format: CompiledDateFormat } | { readonly ok: false; readonly problem: string };

function compileDateFormat(pattern: string): DateFormatCompilation {
  const refuse = (problem: string): DateFormatCompilation => ({ ok: false, problem: `date format ${JSON.stringify(pattern)}: ${problem}` });
  if (typeof pattern !== "string" || pattern === "") return refuse("is empty");
  if (pattern.trim() !== pattern) return refuse("starts or ends with white space, which a trimmed value never has");
  const groups: Partial<Record<DateField, number>> = {};
  const steps: DateStep[] = [];
  let source = "^";
  let groupCount = 0;
  let previousVariable: boolean | undefined; // the width kind of the token just before, when nothing separates them
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index]!;
    if (/[A-Za-z]/.test(char)) {
      let end = index + 1;
      while (pattern[end] === char) end++;
      const run = pattern.slice(index, end);
      const token = TOKENS[run];
      if (token === undefined) return refuse(`unsupported token "${run}" (use d, dd, M, MM and yyyy; other letters are not allowed)`);
      if (groups[token.field] !== undefined) return refuse(`has more than one ${token.field}`);
      if (previousVariable !== undefined && (previousVariable || !token.fixedWidth)) {
        return refuse(`"${run}" follows another number with no separator, so the value could be split more than one way`);
      }
      groups[token.field] = ++groupCount;
      steps.push({ field: FIELD_NUMBERS[token.field], min: token.min, max: token.max, literal: 0 });
      source += token.source;
      previousVariable = !token.fixedWidth;
      index = end;
    } else {
      if (char >= "0" && char <= "9") return refuse("digits cannot be separators");
      source += char.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
      steps.push({ field: NOT_A_FIELD, min: 0, max: 0, literal: char.charCodeAt(0) });
      previousVariable = undefined;
      index++;
    }
  }
  const { year, month, day } = groups;
  if (year === undefined) return refuse("needs a year (yyyy)");
  if (month === undefined) return refuse("needs a month (M or MM)");
  if (day === undefined) return refuse("needs a day (d or dd)");
  const timeAllowed = pattern.startsWith(ISO_DATE_PREFIX);
  if (timeAllowed) source += TIME_SUFFIX;
  return { ok: true, format: { regex: new RegExp(`${source}$`), year, month, day, steps, timeAllowed } };
}

/** Why a date pattern is unusable, or undefined when it is fine: for the config check at start-up. */
export function validateDateFormat(pattern: string): string | undefined {
  const compiled = compileDateFormat(pattern);
  return compiled.ok ? undefined : compiled.problem;
}

const matchersByList = new WeakMap<readonly string[], DateMatcher>();
const matchersByText = new Map<string, DateMatcher>();

/**
 * The matcher for a list of accepted forms, tried in order; built once per list (cached by the
 * list and by its content) because it runs per record. Unusable patterns are skipped, not thrown:
 * the config refuses them first, with validateDateFormat's reason.
 */
export function compileDateFormats(patterns: readonly string[]): DateMatcher {
  const byList = matchersByList.get(patterns);
  if (byList !== undefined) return byList;
  const key = patterns.join("\u0000");
  let matcher = matchersByText.get(key);
  if (matcher === undefined) {
    const formats: CompiledDateFormat[] = [];
    for (const pattern of patterns) {
      const compiled = compileDateFormat(pattern);
      if (compiled.ok) formats.push(compiled.format);
    }
    // No memo: the steps cost less than a lookup among thousands of dates.
    matcher = (value) => (typeof value === "string" ? matchDate(value, formats) : null);
    matchersByText.set(key, matcher);
  }
  matchersByList.set(patterns, matcher);
  return matcher;
}

function matchDate(value: string, formats: readonly CompiledDateFormat[]): string | null {
  const text = value.trim();
  for (const format of formats) {
    const end = matchSteps(text, format.steps);
    if (end === NO_MATCH) continue;
    if (end === text.length) {
      const { year, month, day } = stepped;
      if (!isRealDate(year, month, day)) continue;
      // Already dd/MM/yyyy (most values, in the default forms): the text is the answer.
      if (text.length === 10 && stepped.dayAt === 0 && stepped.monthAt === 3 && stepped.yearAt === 6 && text.charCodeAt(2) === 47 && text.charCodeAt(5) === 47) return text;
      return ddMMyyyy(day, month, text.slice(stepped.yearAt, stepped.yearAt + 4));
    }
    // Text after the date: only an ISO form's time may follow, and the regex says whether it does.
    if (!format.timeAllowed) continue;
    const match = format.regex.exec(text);
    if (match === null) continue;
    const yearText = match[format.year]!;
    const month = Number(match[format.month]);
    const day = Number(match[format.day]);
    if (isRealDate(Number(yearText), month, day)) return ddMMyyyy(day, month, yearText);
  }
  return null;
}

/** The cleaned form of a date: day and month of two digits, the year as written. */
function ddMMyyyy(day: number, month: number, yearText: string): string {
  return `${day < 10 ? "0" : ""}${day}/${month < 10 ? "0" : ""}${month}/${yearText}`;
}

const NO_MATCH = -1;
/** What the last matchSteps read, and where: one object reused, so a match allocates nothing. */
const stepped = { year: 0, month: 0, day: 0, yearAt: 0, monthAt: 0, dayAt: 0 };

/** Matches `steps` at the start of `text`: the index where the date ends, or NO_MATCH; the fields go to `stepped`. */
function matchSteps(text: string, steps: readonly DateStep[]): number {
  let at = 0;
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    if (step.field === NOT_A_FIELD) {
      if (text.charCodeAt(at) !== step.literal) return NO_MATCH;
      at++;
      continue;
    }
    const from = at;
    const limit = from + step.max;
    let number = 0;
    while (at < limit) {
      const digit = text.charCodeAt(at) - 48;
      if (!(digit >= 0 && digit <= 9)) break;
      number = number * 10 + digit;
      at++;
    }
    if (at - from < step.min) return NO_MATCH;
    if (step.field === FIELD_YEAR) {
      stepped.year = number;
      stepped.yearAt = from;
    } else if (step.field === FIELD_MONTH) {
      stepped.month = number;
      stepped.monthAt = from;
    } else {
      stepped.day = number;
      stepped.dayAt = from;
    }
  }
  return at;
}

/** A day of the proleptic Gregorian calendar, years 1–9999 (29 February only in leap years). */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!(year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1)) return false;
  if (month === 2) return day <= (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28);
  return day <= (month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/** `date`: an accepted form that is a real calendar date, written dd/MM/yyyy; anything else → null. */
export function cleanDate(value: unknown, patterns: readonly string[] = DEFAULT_DATE_FORMATS): string | null {
  return compileDateFormats(patterns)(value);
}
