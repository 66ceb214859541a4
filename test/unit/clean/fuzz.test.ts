import { describe, expect, test } from "bun:test";
import { cleanMessage } from "../../../src/clean/record.ts";
import { cleanCountry } from "../../../src/clean/rules.ts";
import type { CleanOutcome, CleanRow, CleanRules } from "../../../src/clean/types.ts";
import { createRandom } from "../../../scripts/gen-sample.ts";

const rules: CleanRules = { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy", "yyyy-MM-dd"], windowMs: 300_000 };
const meta = { timestamp: Date.UTC(2026, 0, 2, 3, 4, 5), partition: 2, offset: 123456789012n };
const encoder = new TextEncoder();
const REASONS = ["invalid_json", "not_an_object", "invalid_id", "invalid_timestamp"];

const random = createRandom(20260102); // seeded, so a failure can be replayed
const below = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;

/** Characters that trip up trimming, case mapping, digit classes and UTF-16. */
const ALPHABET = [
  ..."abcXYZ019./-:T@ ", "\t", "\n", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b", "ß", "İ", "ı", "ŉ", "ﬁ", "Σ", "ς", "ǅ", "é", "Ǆ", "𐐀", "😀",
  "٣", "３", "\u0000", "\ud800", "\udc00", '"', "\\",
];
const randomText = (maxLength: number) => Array.from({ length: below(maxLength + 1) }, () => pick(ALPHABET)).join("");

const FIELD_VALUES: readonly unknown[] = [
  "", " ", "\u00a0", "NULL", "null", "NaN", "-NaN", "Infinity", "-Infinity", "undefined", "0x1F", "1e3", " 42 ", "+7", "-0", "007",
  "9007199254740991", "9007199254740992", "-9007199254740993", "130.187.82.195", " 10.0.0.1 ", "256.1.1.1", "01.2.3.4", "::1", "1.2.3.4.5",
  "06/05/2018", "6/5/2018", "29/02/2019", "29/02/2020", "2018-05-06T10:11:12Z", "2018-05-06 10:11", "2018-05-06T", "31/04/2018",
  "côte   d'ivoire", "guinea-bissau", "ßa", "ﬁji", "ŉx", "ΣΊΣΥΦΟΣ", "İstanbul", "UNITED\tSTATES", "  France ", "A@B.COM", "\ud800", "__proto__",
  "constructor", "prototype", "toString", 0, -0, 1, -1, 1.5, 1e21, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), Number.MAX_SAFE_INTEGER, true, false, null,
  [], {}, [1], { id: 1 },
];
const FIELDS = ["id", "first_name", "last_name", "email", "gender", "ip_address", "date", "country"];
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "valueOf", "ip_addr", "ID", "id "];

function randomValue(depth: number): unknown {
  switch (below(depth > 2 ? 4 : 6)) {
    case 0: return pick(FIELD_VALUES);
    case 1: return randomText(12);
    case 2: return below(2) === 0 ? below(1e6) : (random() - 0.5) * 2 ** (below(80));
    case 3: return String(below(1e9));
    case 4: return Array.from({ length: below(4) }, () => randomValue(depth + 1));
    default: return randomRecord(depth + 1);
  }
}

function randomRecord(depth = 0): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (random() < 0.9) record.id = random() < 0.7 ? below(1e6) : randomValue(depth + 1);
  for (const field of FIELDS.slice(1)) if (random() < 0.8) record[field] = randomValue(depth + 1);
  for (const key of HOSTILE_KEYS) if (random() < 0.1) Object.defineProperty(record, key, { value: randomValue(depth + 1), enumerable: true });
  return record;
}

/** The JSON text of a random record with its keys shuffled; some are mangled into invalid JSON. */
function randomJsonText(): string {
  const record = randomRecord();
  const keys = Object.keys(record).sort(() => random() - 0.5);
  const text = `{${keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(record[key]) ?? "null"}`).join(",")}}`;
  if (random() < 0.1) {
    const at = below(text.length);
    return text.slice(0, at) + pick(["", ",", "}", '"', "\\", "\u0000", "NaN"]) + text.slice(at + 1);
  }
  return text;
}

function randomBytes(): Uint8Array {
  const bytes = Uint8Array.from({ length: below(80) }, () => below(256));
  if (random() < 0.5) bytes.set(encoder.encode('{"id":1,"first_name":"').subarray(0, Math.min(22, bytes.length)));
  return bytes;
}

/** Independent oracles for what a row may hold. */
const isOctet = (part: string) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255;
const isDottedQuad = (text: string) => text.split(".").length === 4 && text.split(".").every(isOctet);
const isCalendarDate = (text: string) => {
  const match = /^([0-9]{2})\/([0-9]{2})\/([0-9]{4})$/.exec(text);
  if (!match) return false;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
};
const isTrimmedText = (text: string) => text !== "" && text.trim() === text && text.isWellFormed();

/** Every way a row could break the rules, as text (empty when the row is fine). */
function ruleBreaks(row: CleanRow): string[] {
  const breaks: string[] = [];
  if (!Number.isSafeInteger(row.id) || Object.is(row.id, -0)) breaks.push(`id ${row.id}`);
  if (!(row.first_name === rules.nullPlaceholder || isTrimmedText(row.first_name))) breaks.push(`first_name ${JSON.stringify(row.first_name)}`);
  if (!(row.last_name === null || isTrimmedText(row.last_name))) breaks.push(`last_name ${JSON.stringify(row.last_name)}`);
  if (!(row.gender === null || isTrimmedText(row.gender))) breaks.push(`gender ${JSON.stringify(row.gender)}`);
  if (!(row.email === rules.nullPlaceholder || (isTrimmedText(row.email) && row.email === row.email.toLowerCase()))) breaks.push(`email ${JSON.stringify(row.email)}`);
  if (!(row.ip_addr === rules.defaultIp || isDottedQuad(row.ip_addr))) breaks.push(`ip_addr ${JSON.stringify(row.ip_addr)}`);
  if (!(row.date === null || isCalendarDate(row.date))) breaks.push(`date ${JSON.stringify(row.date)}`);
  if (!(row.country === null || (isTrimmedText(row.country) && !/\s\s|[^\S ]/.test(row.country)))) breaks.push(`country ${JSON.stringify(row.country)}`);
  if (row.timestamp !== meta.timestamp || row.source_partition !== meta.partition || row.source_offset !== meta.offset) breaks.push("lineage");
  return breaks;
}

/** Cleans without letting an exception escape the check, and checks the outcome's shape. */
function cleanChecked(value: Uint8Array | null, problems: string[], label: string): CleanOutcome | undefined {
  let outcome: CleanOutcome;
  try {
    outcome = cleanMessage(value, meta, rules);
  } catch (error) {
    problems.push(`${label}: threw ${String(error)}`);
    return undefined;
  }
  if (outcome.kind === "row") {
    const breaks = ruleBreaks(outcome.row);
    if (breaks.length > 0) problems.push(`${label}: ${breaks.join("; ")}`);
  } else if (outcome.kind === "dead") {
    const { reason, message } = outcome.verdict;
    if (!REASONS.includes(reason) || typeof message !== "string" || message === "" || message.length > 300) {
      problems.push(`${label}: bad verdict ${reason} ${message.slice(0, 80)}`);
    }
  } else {
    problems.push(`${label}: neither a row nor a dead letter`);
  }
  return outcome;
}

describe("hostile input (seeded fuzz)", () => {
  test("random bytes, including invalid UTF-8, end as a row or a dead letter", () => {
    const problems: string[] = [];
    const kinds = new Set<string>();
    for (let index = 0; index < 4000; index++) {
      const bytes = randomBytes();
      kinds.add(cleanChecked(bytes, problems, `bytes ${Array.from(bytes).join(",")}`)?.kind ?? "threw");
    }
    expect(problems).toEqual([]);
    expect(kinds.has("dead")).toBe(true);
  });

  test("random records with hostile keys and values end as rows that keep every rule, or dead letters", () => {
    const problems: string[] = [];
    const seen = { row: 0, dead: 0 };
    for (let index = 0; index < 8000; index++) {
      const text = randomJsonText();
      const outcome = cleanChecked(encoder.encode(text), problems, text.slice(0, 200));
      if (outcome) seen[outcome.kind]++;
    }
    expect(problems).toEqual([]);
    expect(seen.row).toBeGreaterThan(3000);
    expect(seen.dead).toBeGreaterThan(500);
  });

  test("100 000 levels of nesting, anywhere, end as a row or a dead letter", () => {
    const depth = 100_000;
    const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const problems: string[] = [];
    const outcomes = [
      arrays, objects, `{"id":${arrays}}`, `{"id":1,"first_name":${objects}}`, `{"id":1,"country":${arrays},"x":${objects}}`,
      "[".repeat(depth), '{"a":'.repeat(depth), `{"id":1,"x":${"[".repeat(depth)}}`,
    ].map((text, index) => cleanChecked(encoder.encode(text), problems, `nesting #${index}`));
    expect(problems).toEqual([]);
    expect(outcomes.map((outcome) => outcome?.kind)).toEqual(["dead", "dead", "dead", "row", "row", "dead", "dead", "dead"]);
  });

  test("10 MB strings in every field end as a row or a dead letter", () => {
    const huge = "x".repeat(10_000_000);
    const hugeDigits = "9".repeat(10_000_000);
    const hugeSpace = " ".repeat(10_000_000);
    const problems: string[] = [];
    const texts = [
      `{"id":1,"first_name":"${huge}","last_name":"${hugeSpace}","email":" ${huge.toUpperCase()} "}`,
      `{"id":"${hugeDigits}"}`,
      `{"id":${hugeDigits}}`,
      `{"id":1,"ip_address":"${hugeDigits}","date":"${hugeDigits}","country":"${hugeSpace}a${hugeSpace}b"}`,
      `"${huge}"`,
      huge,
    ];
    const outcomes = texts.map((text, index) => cleanChecked(encoder.encode(text), problems, `huge #${index}`));
    expect(problems).toEqual([]);
    expect(outcomes.map((outcome) => outcome?.kind)).toEqual(["row", "dead", "dead", "row", "dead", "dead"]);
    const first = outcomes[0];
    expect(first?.kind === "row" && first.row.email.length === 10_000_000 && first.row.last_name === null).toBe(true);
  });

  test("numbers beyond 2^53 and NaN-like text are never taken as an id", () => {
    const problems: string[] = [];
    for (const id of ["9007199254740992", "9007199254740993", "-9007199254740993", "1e16", "1e400", "-1e400", "123456789012345678901234567890",
      '"9007199254740993"', '"NaN"', '"Infinity"', '"-Infinity"', '"0x10"', '"1e3"', '" "', "1.0000000001"]) {
      const outcome = cleanChecked(encoder.encode(`{"id":${id}}`), problems, `id ${id}`);
      if (outcome?.kind !== "dead" || outcome.verdict.reason !== "invalid_id") problems.push(`id ${id} was not refused`);
    }
    expect(problems).toEqual([]);
  });

  test("a tombstone ends as a dead letter", () => {
    const problems: string[] = [];
    expect(cleanChecked(null, problems, "tombstone")?.kind).toBe("dead");
    expect(problems).toEqual([]);
  });
});

describe("idempotence", () => {
  test("cleaning a cleaned row again (ip_addr as ip_address) gives the same row", () => {
    let rows = 0;
    const differences: string[] = [];
    for (let index = 0; index < 6000; index++) {
      const first = cleanMessage(encoder.encode(randomJsonText()), meta, rules);
      if (first.kind !== "row") continue;
      rows++;
      const again = cleanMessage(encoder.encode(JSON.stringify({ ...first.row, ip_address: first.row.ip_addr, source_offset: String(first.row.source_offset) })), meta, rules);
      if (again.kind !== "row" || !Bun.deepEquals(again.row, first.row, true)) {
        differences.push(`${JSON.stringify(first.row)} → ${JSON.stringify(again)}`);
      }
    }
    expect(differences).toEqual([]);
    expect(rows).toBeGreaterThan(2000);
  });

  test("cleaning a cleaned country again changes nothing for random text", () => {
    const differences: string[] = [];
    for (let index = 0; index < 20_000; index++) {
      const once = cleanCountry(randomText(16));
      if (once !== null && cleanCountry(once) !== once) differences.push(once);
    }
    expect(differences).toEqual([]);
  });
});
