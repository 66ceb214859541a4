/**
 * Property-based fuzz tests (fast-check) of stream-clean's pure cleaning code, src/clean: whatever
 * bytes, JSON values, field values or Kafka timestamps arrive, cleanMessage ends in exactly one of
 * a row that keeps every rule or a dead letter with a known reason, never an exception; cleaning a
 * cleaned row again changes nothing; windows and staging messages stay consistent. The seeded
 * hand-written fuzz in test/unit/clean/fuzz.test.ts covers fixed hostile shapes (100k nesting,
 * 10 MB strings); this file lets fast-check search the space and shrink what it finds.
 *
 * Runs are bounded (a few hundred per property) and the seed is fixed, so the file takes about a
 * second and a failure replays; set FC_SEED to explore other seeds locally.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { cleanMessage, cleanParsed, type MessageMeta } from "../../../src/clean/record.ts";
import {
  cleanCountry, cleanDate, cleanEmail, cleanFirstName, cleanGender, cleanId, cleanIp, cleanLastName, describeBadId, shorten,
} from "../../../src/clean/rules.ts";
import { stagingMessage } from "../../../src/clean/staging.ts";
import type { CleanOutcome, CleanRow, CleanRules } from "../../../src/clean/types.ts";
import { isRepresentableWindow, MAX_TIME_MS, parseDuration, windowOf } from "../../../src/clean/window.ts";

const SEED = Number(process.env.FC_SEED ?? 20260107);
const runs = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED });

const rules: CleanRules = { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy", "yyyy-MM-dd"], windowMs: 300_000 };
const meta: MessageMeta = { timestamp: Date.UTC(2026, 0, 2, 3, 4, 5), partition: 2, offset: 9223372036854775807n };
const REASONS = new Set(["invalid_json", "not_an_object", "invalid_id", "invalid_timestamp"]);
const encoder = new TextEncoder();

// ---- generators ---------------------------------------------------------------------------------

/** Characters that trip up trimming, case mapping, digit classes, UTF-16 and JSON escaping. */
const trickyChar = fc.constantFrom(
  ..."aZ09./-:T@ ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b", "ß", "İ", "ı", "ŉ", "ﬁ", "Σ", "ς", "ǅ", "𐐀", "😀",
  "٣", "３", "\u0000", "\u001f", "\ud800", "\udc00", '"', "\\", "/",
);
const trickyText = fc.oneof(fc.string({ unit: trickyChar, maxLength: 24 }), fc.string({ unit: "binary", maxLength: 24 }), fc.string({ maxLength: 24 }));

/** Values that look like something else: numbers as text, IPs, dates, prototype names. */
const lookalike = fc.constantFrom(
  "", " ", "NULL", "null", "NaN", "Infinity", "-0", "+7", " 42 ", "007", "0x1F", "1e3", "9007199254740991", "9007199254740992", "-9007199254740993",
  "130.187.82.195", " 10.0.0.1 ", "256.1.1.1", "01.2.3.4", "1.2.3.4.5", "06/05/2018", "6/5/2018", "29/02/2019", "29/02/2020", "31/04/2018",
  "2018-05-06T10:11:12Z", "2018-05-06 10:11", "2018-05-06T", "0000-01-01", "côte   d'ivoire", "guinea-bissau", "ßa", "ﬁji", "__proto__",
  "constructor", "toString",
);

const number = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);

/** A field value of any JSON type, biased to the shapes the rules must tell apart. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: trickyText },
  { weight: 3, arbitrary: lookalike },
  { weight: 2, arbitrary: number },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** JSON literals that JSON.stringify cannot write from a double: ids beyond 2^53, exponents, 1.0. */
const numberLiteral = fc.oneof(
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom("1.0", "-0", "0.0", "1e2", "1E+2", "1e400", "-1e400", "9007199254740993", "1152921504606846977", "1.00000000000000001", "5e-324"),
);

const FIELDS = ["id", "first_name", "last_name", "email", "gender", "ip_address", "date", "country"];
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 2, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "ip_addr", "ID", "id ", "\u0069d") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

/**
 * The text of a JSON object written entry by entry, so that it can hold what JSON.stringify of
 * a JavaScript object cannot: duplicate keys, a `__proto__` key, raw number literals.
 */
const recordText = fc
  .array(fc.tuple(key, fc.oneof({ weight: 5, arbitrary: fieldValue.map((value) => JSON.stringify(value) ?? "null") }, { weight: 1, arbitrary: numberLiteral })), {
    maxLength: 12,
  })
  .chain((entries) =>
    fc.constantFrom(" ", "", "\n\t").map((space) => `{${space}${entries.map(([name, value]) => `${JSON.stringify(name)}${space}:${value}`).join(`,${space}`)}}`),
  );

/** A mostly usable record (an id that passes) so that the row side of the properties gets real work. */
const usableRecordText = fc
  .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.array(fc.tuple(fc.constantFrom(...FIELDS.slice(1)), fieldValue), { maxLength: 8 }))
  .map(([id, entries]) => `{"id":${id}${entries.map(([name, value]) => `,${JSON.stringify(name)}:${JSON.stringify(value) ?? "null"}`).join("")}}`);

/** A JSON text cut, spliced or salted with a stray character: mostly not JSON any more. */
const mangledText = fc
  .tuple(recordText, fc.nat(), fc.constantFrom("", ",", "}", "]", '"', "\\", "\u0000", "NaN", "'", "\ud800", "{", ":"))
  .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + 1));

/** Raw bytes: random, or a valid prefix followed by random bytes (invalid UTF-8, NUL, truncation). */
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc.tuple(recordText, fc.uint8Array({ maxLength: 16 }), fc.nat()).map(([text, tail, at]) => {
    const head = encoder.encode(text);
    const cut = head.subarray(0, at % (head.length + 1));
    const bytes = new Uint8Array(cut.length + tail.length);
    bytes.set(cut);
    bytes.set(tail, cut.length);
    return bytes;
  }),
);

// ---- oracles ------------------------------------------------------------------------------------

const isTrimmedText = (text: string) => text !== "" && text.trim() === text && text.isWellFormed();
const isOctet = (part: string) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255;

/** The rules a row must keep whatever went in, written independently of src/clean. Empty when fine. */
function ruleBreaks(row: CleanRow, at: MessageMeta): string[] {
  const breaks: string[] = [];
  if (!Number.isSafeInteger(row.id) || Object.is(row.id, -0)) breaks.push(`id ${row.id}`);
  if (!(row.first_name === rules.nullPlaceholder || isTrimmedText(row.first_name))) breaks.push("first_name");
  if (!(row.last_name === null || isTrimmedText(row.last_name))) breaks.push("last_name");
  if (!(row.gender === null || isTrimmedText(row.gender))) breaks.push("gender");
  if (!(row.email === rules.nullPlaceholder || (isTrimmedText(row.email) && row.email === row.email.toLowerCase()))) breaks.push("email");
  if (!(row.ip_addr === rules.defaultIp || (row.ip_addr.split(".").length === 4 && row.ip_addr.split(".").every(isOctet)))) breaks.push("ip_addr");
  if (!(row.date === null || /^[0-9]{2}\/[0-9]{2}\/[0-9]{4}$/.test(row.date))) breaks.push("date");
  if (!(row.country === null || (isTrimmedText(row.country) && !/\s\s|[^\S ]/.test(row.country)))) breaks.push("country");
  if (row.timestamp !== at.timestamp || row.source_partition !== at.partition || row.source_offset !== at.offset) breaks.push("lineage");
  const columns = ["id", "first_name", "last_name", "email", "gender", "ip_addr", "date", "country", "timestamp", "source_partition", "source_offset"];
  if (Object.keys(row).join() !== columns.join()) breaks.push(`columns ${Object.keys(row).join()}`);
  return breaks;
}

/**
 * Cleans and checks that the outcome is exactly one of a rule-abiding row or a dead letter with a
 * known reason and a short human message. Throws (failing the property) otherwise.
 */
function cleanChecked(value: Uint8Array | null, at: MessageMeta = meta): CleanOutcome {
  const outcome = cleanMessage(value, at, rules);
  if (outcome.kind === "row") {
    expect("verdict" in outcome).toBe(false);
    expect(ruleBreaks(outcome.row, at)).toEqual([]);
  } else {
    expect(outcome.kind).toBe("dead");
    expect("row" in outcome).toBe(false);
    expect(REASONS.has(outcome.verdict.reason)).toBe(true);
    expect(typeof outcome.verdict.message).toBe("string");
    expect(outcome.verdict.message.length).toBeGreaterThan(0);
    // it travels in a Kafka header: bounded whatever the input
    expect(outcome.verdict.message.length).toBeLessThanOrEqual(300);
  }
  return outcome;
}

/** What the row looks like when it comes back through the input topic (ip_addr is read from ip_address). */
// The offset is written as text (JSON has no int64); cleaning reads no source_offset field anyway.
const asInput = (row: CleanRow) => JSON.stringify({ ...row, ip_address: row.ip_addr, source_offset: String(row.source_offset) });

// ---- properties ---------------------------------------------------------------------------------

describe("cleanMessage on hostile input (fast-check)", () => {
  test("any bytes (invalid UTF-8, NUL, truncated JSON) end as exactly one of a row or a dead letter", () => {
    fc.assert(fc.property(hostileBytes, (bytes) => void cleanChecked(bytes)), runs(1000));
  });

  test("any JSON value ends as a row or a dead letter; only an object can become a row", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const outcome = cleanChecked(encoder.encode(JSON.stringify(value)));
        const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
        if (!isObject) expect(outcome.kind === "dead" && outcome.verdict.reason).toBe("not_an_object");
        else if (outcome.kind === "dead") expect(outcome.verdict.reason).toBe("invalid_id");
      }),
      runs(500),
    );
  });

  test("any record text with hostile keys, duplicate keys and raw number literals ends as a row or an invalid_id dead letter", () => {
    fc.assert(
      fc.property(recordText, (text) => {
        const outcome = cleanChecked(encoder.encode(text));
        // the text is a valid object, so only the id can send it to the dead letters
        if (outcome.kind === "dead") expect(outcome.verdict.reason).toBe("invalid_id");
      }),
      runs(1000),
    );
  });

  test("mangled JSON text ends as a row or a dead letter, and text JSON.parse refuses is invalid_json", () => {
    fc.assert(
      fc.property(mangledText, (text) => {
        const outcome = cleanChecked(encoder.encode(text));
        let parses = true;
        try {
          JSON.parse(text.replace(/^\ufeff/, ""));
        } catch {
          parses = false;
        }
        // a lone surrogate is replaced by U+FFFD on the way to UTF-8, which can make it parse
        if (!parses && text.isWellFormed()) expect(outcome.kind === "dead" && outcome.verdict.reason).toBe("invalid_json");
      }),
      runs(1000),
    );
  });

  test("the id is taken exactly when it is a safe integer, whatever literal or string wrote it", () => {
    fc.assert(
      fc.property(fc.oneof(numberLiteral, number.map((n) => JSON.stringify(n)), fieldValue.map((value) => JSON.stringify(value) ?? "null")), (literal) => {
        const outcome = cleanChecked(encoder.encode(`{"id":${literal}}`));
        const parsed: unknown = JSON.parse(literal);
        const expected =
          typeof parsed === "number" ? Number.isSafeInteger(parsed)
          : typeof parsed === "string" ? /^[+-]?[0-9]+$/.test(parsed.trim()) && Number.isSafeInteger(Number(parsed.trim()))
          : false;
        expect(outcome.kind).toBe(expected ? "row" : "dead");
        if (outcome.kind === "row") expect(outcome.row.id).toBe(Number(typeof parsed === "string" ? parsed.trim() : parsed) + 0);
      }),
      runs(1000),
    );
  });

  test("any Kafka timestamp gives a row or an invalid_timestamp dead letter, never a throw", () => {
    const timestamp = fc.oneof(
      fc.integer({ min: -MAX_TIME_MS, max: MAX_TIME_MS }),
      fc.double(),
      fc.constantFrom(MAX_TIME_MS, -MAX_TIME_MS, MAX_TIME_MS - 1, -MAX_TIME_MS + 1, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity, -Infinity),
    );
    fc.assert(
      fc.property(timestamp, usableRecordText, (ts, text) => {
        const at = { ...meta, timestamp: ts };
        const outcome = cleanChecked(encoder.encode(text), at);
        const representable = Number.isInteger(ts) && isRepresentableWindow(windowOf(ts, rules.windowMs));
        expect(outcome.kind === "row" ? "row" : outcome.verdict.reason).toBe(representable ? "row" : "invalid_timestamp");
      }),
      runs(500),
    );
  });

  test("a tombstone (no value) is an invalid_json dead letter", () => {
    expect(cleanChecked(null)).toMatchObject({ kind: "dead", verdict: { reason: "invalid_json" } });
  });
});

describe("idempotence (fast-check)", () => {
  test("cleaning the JSON of a cleaned row gives the same row", () => {
    fc.assert(
      fc.property(fc.oneof(usableRecordText, recordText), (text) => {
        const first = cleanChecked(encoder.encode(text));
        if (first.kind !== "row") return;
        const again = cleanChecked(encoder.encode(asInput(first.row)));
        expect(again).toEqual(first);
      }),
      runs(1000),
    );
  });

  test("cleanParsed of a cleaned row gives the same row (no byte round trip)", () => {
    fc.assert(
      fc.property(usableRecordText, (text) => {
        const first = cleanParsed(JSON.parse(text), meta, rules);
        if (first.kind !== "row") return;
        expect(cleanParsed({ ...first.row, ip_address: first.row.ip_addr }, meta, rules)).toEqual(first);
      }),
      runs(500),
    );
  });

  test("each text rule is idempotent on any value", () => {
    fc.assert(
      fc.property(fieldValue, (value) => {
        const country = cleanCountry(value);
        if (country !== null) expect(cleanCountry(country)).toBe(country);
        const email = cleanEmail(value, "NULL");
        expect(cleanEmail(email, "NULL")).toBe(email);
        const first = cleanFirstName(value, "NULL");
        expect(cleanFirstName(first, "NULL")).toBe(first);
        for (const rule of [cleanLastName, cleanGender]) {
          const once = rule(value);
          if (once !== null) expect(rule(once)).toBe(once);
        }
        const ip = cleanIp(value, "127.127.127.127");
        expect(cleanIp(ip, "127.127.127.127")).toBe(ip);
        const date = cleanDate(value);
        if (date !== null) expect(cleanDate(date)).toBe(date);
      }),
      runs(1000),
    );
  });
});

describe("rules never throw (fast-check)", () => {
  test("every rule takes any value, including objects with a hostile prototype chain", () => {
    const anyValue = fc.oneof(fieldValue, fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }));
    fc.assert(
      fc.property(anyValue, (value) => {
        cleanId(value);
        expect(typeof describeBadId(value)).toBe("string");
        cleanCountry(value);
        cleanEmail(value, "NULL");
        cleanFirstName(value, "NULL");
        cleanLastName(value);
        cleanGender(value);
        cleanIp(value, "127.127.127.127");
        cleanDate(value);
      }),
      runs(500),
    );
  });

  test("shorten never cuts a surrogate pair and stays within its bound", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.integer({ min: 2, max: 250 }), (text, max) => {
        const short = shorten(text, max);
        expect(short.length).toBeLessThanOrEqual(Math.max(max, text.length <= max ? text.length : 0));
        if (short !== text) {
          expect(short.endsWith("…")).toBe(true);
          const kept = short.slice(0, -1);
          expect(text.startsWith(kept)).toBe(true);
          // no high surrogate left without its low half by the cut
          expect(/[\ud800-\udbff]$/.test(kept) && /^[\udc00-\udfff]/.test(text.slice(kept.length))).toBe(false);
        }
      }),
      runs(500),
    );
  });
});

describe("windows and staging (fast-check)", () => {
  test("a window holds its timestamp, is aligned to the epoch and is one size long", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_TIME_MS + 1e12, max: MAX_TIME_MS - 1e12 }), fc.integer({ min: 1, max: 7 * 86_400_000 }), (ts, size) => {
        const { start, end } = windowOf(ts, size);
        expect(start <= ts && ts < end).toBe(true);
        expect(end - start).toBe(size);
        expect(Object.is(start % size, -0) || start % size === 0).toBe(true);
      }),
      runs(1000),
    );
  });

  test("any window size, valid or not, gives a window or NaN bounds, never a throw", () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (ts, size) => {
        const window = windowOf(ts, size);
        if (!(size > 0 && size !== Infinity)) expect(Number.isNaN(window.start) && Number.isNaN(window.end)).toBe(true);
      }),
      runs(500),
    );
  });

  test("parseDuration takes any text and returns a positive safe integer or undefined", () => {
    const durationish = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.tuple(fc.double({ min: 0, max: 1e20, noNaN: true }), fc.constantFrom("ms", "s", "m", "h", "d", "w", "minutes", "x", ""), fc.constantFrom("", " ", "  ")).map(
        ([value, unit, space]) => `${value}${space}${unit}`,
      ),
    );
    fc.assert(
      fc.property(durationish, (text) => {
        const ms = parseDuration(text);
        if (ms !== undefined) expect(Number.isSafeInteger(ms) && ms > 0).toBe(true);
      }),
      runs(1000),
    );
  });

  test("the staging message of any cleaned row is valid JSON holding the row's window, country and email", () => {
    fc.assert(
      fc.property(usableRecordText, fc.integer({ min: -MAX_TIME_MS + 1e9, max: MAX_TIME_MS - 1e9 }), fc.constantFrom(1, 1000, 300_000, 86_400_000), (text, ts, windowMs) => {
        const outcome = cleanMessage(encoder.encode(text), { ...meta, timestamp: ts }, { ...rules, windowMs });
        if (outcome.kind !== "row") return;
        const { key, value } = stagingMessage(outcome.row, windowMs);
        const window = windowOf(ts, windowMs);
        expect(key).toBe(new Date(window.start).toISOString());
        expect(JSON.parse(value)).toEqual({
          time_window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
          country: outcome.row.country,
          users: outcome.row.email,
        });
      }),
      runs(500),
    );
  });
});

describe("date forms read character by character (fast-check)", () => {
  /**
   * The rule as SPEC.md words it, as one regex per form (with the ISO time suffix): the reference
   * the step matcher in rules.ts must agree with for every value and every list of forms.
   */
  const REFERENCE: Readonly<Record<string, RegExp>> = {
    "d/M/yyyy": /^(?<d>[0-9]{1,2})\/(?<M>[0-9]{1,2})\/(?<y>[0-9]{4})$/,
    "yyyy-MM-dd": /^(?<y>[0-9]{4})-(?<M>[0-9]{2})-(?<d>[0-9]{2})(?:[Tt ][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:[.,][0-9]{1,9})?)?)? ?(?:[Zz]|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$/,
    "M/d/yyyy": /^(?<M>[0-9]{1,2})\/(?<d>[0-9]{1,2})\/(?<y>[0-9]{4})$/,
    "dd.MM.yyyy": /^(?<d>[0-9]{2})\.(?<M>[0-9]{2})\.(?<y>[0-9]{4})$/,
    "yyyy/M/d": /^(?<y>[0-9]{4})\/(?<M>[0-9]{1,2})\/(?<d>[0-9]{1,2})$/,
    "d M yyyy": /^(?<d>[0-9]{1,2}) (?<M>[0-9]{1,2}) (?<y>[0-9]{4})$/,
    yyyyMMdd: /^(?<y>[0-9]{4})(?<M>[0-9]{2})(?<d>[0-9]{2})$/,
  };
  const isReal = (year: number, month: number, day: number) => {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  };
  const reference = (value: string, forms: readonly string[]): string | null => {
    for (const form of forms) {
      const groups = REFERENCE[form]!.exec(value.trim())?.groups;
      if (!groups) continue;
      const [year, month, day] = [Number(groups.y), Number(groups.M), Number(groups.d)];
      if (isReal(year, month, day)) return `${groups.d!.padStart(2, "0")}/${groups.M!.padStart(2, "0")}/${groups.y}`;
    }
    return null;
  };
  const dateChar = fc.constantFrom(..."0123456789", "0", "1", "2", "/", "-", ".", " ", "T", "t", ":", "Z", "U", "C", "+", ",", "\u00a0", "٣");
  const dateLike = fc.oneof(
    fc.string({ unit: dateChar, maxLength: 30 }),
    fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.constantFrom("/", "-", ".", " ", ""), fc.constantFrom("", "T10:11:12Z", " 10:11", "t101112+0100", "x"))
      .map(([year, month, day, separator, tail]) => [`${day}${separator}${month}${separator}${year}`, `${String(year).padStart(4, "0")}${separator}${String(month).padStart(2, "0")}${separator}${String(day).padStart(2, "0")}${tail}`]),
  ).chain((value) => (Array.isArray(value) ? fc.constantFrom(...value) : fc.constant(value)));
  const forms = fc.shuffledSubarray(Object.keys(REFERENCE), { minLength: 1 });

  test("every value gets what the forms' regexes give it, for any list of forms", () => {
    fc.assert(
      fc.property(dateLike, forms, fc.constantFrom("", " ", "\t", "\u3000"), (value, list, pad) => {
        expect(cleanDate(pad + value + pad, list)).toBe(reference(value, list));
      }),
      runs(5000),
    );
  });
});
