/**
 * One pure function per cleaning rule of SPEC.md ("Cleaning rules"). A field whose value is not a
 * string counts as missing, except `id`; "trimmed" is String.prototype.trim. None of these throws.
 */

/** `id`: a JSON integer, an integral number, or a string of decimal digits (optional sign, white space around); a safe integer. */
export function cleanId(value: unknown): number | undefined {
  let number: number;
  if (typeof value === "number") {
    number = value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (!/^[+-]?\d+$/.test(text)) return undefined;
    number = Number(text);
  } else {
    return undefined;
  }
  if (!Number.isSafeInteger(number)) return undefined;
  return number === 0 ? 0 : number; // no -0 in the output
}

const trimmed = (value: unknown): string | undefined => {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  return text === "" ? undefined : text;
};

/** `first_name`: trimmed; missing, null or blank → the placeholder. */
export function cleanFirstName(value: unknown, placeholder: string): string {
  return trimmed(value) ?? placeholder;
}

/** `last_name`: trimmed; missing, null or blank → null. */
export function cleanLastName(value: unknown): string | null {
  return trimmed(value) ?? null;
}

/**
 * `email`: trimmed and lower-cased; missing, null or blank → the placeholder. The placeholder
 * itself stays as it is, so cleaning a cleaned row changes nothing ("NULL" must not become "null").
 */
export function cleanEmail(value: unknown, placeholder: string): string {
  const text = trimmed(value);
  return text === undefined || text === placeholder ? placeholder : text.toLowerCase();
}

/** `gender`: trimmed; missing, null or blank → null. */
export function cleanGender(value: unknown): string | null {
  return trimmed(value) ?? null;
}

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

export function isDottedQuad(text: string): boolean {
  return DOTTED_QUAD.test(text);
}

/** `ip_addr`: trimmed; kept if a dotted-quad IPv4 address (octets 0–255, no leading zeros), else the default. */
export function cleanIp(value: unknown, defaultIp: string): string {
  const text = trimmed(value);
  return text !== undefined && DOTTED_QUAD.test(text) ? text : defaultIp;
}

/** `country`: trimmed, white space runs collapsed, lower-cased, first character of each word upper-cased. */
export function cleanCountry(value: unknown): string | null {
  const text = trimmed(value);
  if (text === undefined) return null;
  return text
    .replace(/\s+/g, " ")
    .toLowerCase()
    .split(" ")
    .map((word) => {
      const first = String.fromCodePoint(word.codePointAt(0)!);
      return first.toUpperCase() + word.slice(first.length);
    })
    .join(" ");
}

// ---- dates ----------------------------------------------------------------------------------

export interface DateMatcher {
  /** dd/MM/yyyy for an accepted, real calendar date; null otherwise. */
  (value: unknown): string | null;
}

const TOKEN = /yyyy|MM|M|dd|d/g;
const ISO_DATE_PREFIX = "yyyy-MM-dd";

/** Why a date pattern is unusable, or undefined when it is fine (for the config check). */
export function validateDateFormat(pattern: string): string | undefined {
  const tokens = pattern.match(TOKEN) ?? [];
  const count = (names: string[]) => tokens.filter((token) => names.includes(token)).length;
  if (count(["yyyy"]) !== 1) return `date format "${pattern}" needs exactly one yyyy`;
  if (count(["MM", "M"]) !== 1) return `date format "${pattern}" needs exactly one M or MM`;
  if (count(["dd", "d"]) !== 1) return `date format "${pattern}" needs exactly one d or dd`;
  return undefined;
}

function compileOne(pattern: string): { regex: RegExp; order: Array<"y" | "m" | "d"> } {
  const order: Array<"y" | "m" | "d"> = [];
  let source = "";
  let last = 0;
  for (const match of pattern.matchAll(TOKEN)) {
    source += escapeRegex(pattern.slice(last, match.index));
    const token = match[0];
    source += token === "yyyy" ? "(\\d{4})" : token.length === 2 ? "(\\d{2})" : "(\\d{1,2})";
    order.push(token[0] === "y" ? "y" : token[0] === "M" ? "m" : "d");
    last = match.index + token.length;
  }
  source += escapeRegex(pattern.slice(last));
  // SPEC: yyyy-MM-dd may be followed by T or a space and a time, which is ignored.
  if (pattern === ISO_DATE_PREFIX) source += "(?:[T ]\\d.*)?";
  return { regex: new RegExp(`^${source}$`, "s"), order };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const matchers = new Map<string, DateMatcher>();

/** Compiles the accepted date forms once; the matcher runs per record. Unusable patterns are skipped (the config refuses them first). */
export function compileDateFormats(patterns: readonly string[]): DateMatcher {
  const cacheKey = patterns.join("\u0000");
  const cached = matchers.get(cacheKey);
  if (cached) return cached;
  const compiled = patterns.filter((pattern) => validateDateFormat(pattern) === undefined).map(compileOne);
  const matcher: DateMatcher = (value) => {
    const text = trimmed(value);
    if (text === undefined) return null;
    for (const { regex, order } of compiled) {
      const match = regex.exec(text);
      if (!match) continue;
      let year = 0;
      let month = 0;
      let day = 0;
      order.forEach((part, index) => {
        const number = Number(match[index + 1]);
        if (part === "y") year = number;
        else if (part === "m") month = number;
        else day = number;
      });
      if (isRealDate(year, month, day)) {
        return `${String(day).padStart(2, "0")}/${String(month).padStart(2, "0")}/${String(year).padStart(4, "0")}`;
      }
    }
    return null;
  };
  matchers.set(cacheKey, matcher);
  return matcher;
}

export function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** `date`: an accepted form that is a real calendar date, written dd/MM/yyyy; anything else → null. */
export function cleanDate(value: unknown, patterns: readonly string[]): string | null {
  return compileDateFormats(patterns)(value);
}
