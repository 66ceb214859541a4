import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { stagingMessage } from "../../../src/clean/staging.ts";
import type { CleanRow } from "../../../src/clean/types.ts";
import { compareCodePoints, createAggregator, measureOf, parseStagingValue, type StagingRecord } from "../../../src/measure/aggregate.ts";
import { formatCsv, measuresFromCsv, parseCsv } from "../../../src/measure/csv.ts";
import { createStagingFields, createWindowCache, readStagingFields } from "../../../src/measure/staging-value.ts";

const W = 300_000;
const rec = (start: number, country: string | null, user: string | null) => ({ windowStart: start, windowEnd: start + W, country, user });

describe("measures per window", () => {
  test("unique users ignore the placeholder and repeats; countries ignore null", () => {
    const agg = createAggregator({ placeholder: "NULL" });
    for (const r of [rec(0, "France", "a"), rec(0, "France", "a"), rec(0, null, "b"), rec(0, "Peru", "NULL"), rec(0, "Peru", "NULL")]) agg.add(r);
    expect(agg.measures()).toEqual([
      { windowStart: 0, windowEnd: W, mostCountry: "France", mostCount: 2, leastCountry: "France", leastCount: 2, uniqueUsers: 2 },
    ]);
  });

  test("ties go to the country that sorts first by code point, for most and least alike", () => {
    const agg = createAggregator({ placeholder: "NULL" });
    for (const country of ["Peru", "Chad", "Peru", "Chad", "Mali", "Oman"]) agg.add(rec(0, country, country));
    expect(agg.measures()[0]).toMatchObject({ mostCountry: "Chad", mostCount: 2, leastCountry: "Mali", leastCount: 1 });
  });

  test("a window with only null countries has empty country fields", () => {
    const agg = createAggregator({ placeholder: "NULL" });
    agg.add(rec(W, null, "x"));
    expect(agg.measures()[0]).toMatchObject({ mostCountry: null, mostCount: null, leastCountry: null, leastCount: null, uniqueUsers: 1 });
  });

  test("windows come out sorted and --from/--to keep [from, to)", () => {
    const agg = createAggregator({ placeholder: "NULL", from: W, to: 3 * W });
    for (const start of [3 * W, 0, 2 * W, W]) agg.add(rec(start, "X", "u"));
    expect(agg.measures().map((m) => m.windowStart)).toEqual([W, 2 * W]);
  });

  test("code point order differs from UTF-16 order past U+FFFF, and code points win", () => {
    const astral = "\u{1F600}"; // UTF-16 D83D DE00
    const bmpHigh = "\uFF21"; // FF21 > D83D in UTF-16, but U+FF21 < U+1F600
    expect(bmpHigh < astral).toBe(false);
    expect(compareCodePoints(bmpHigh, astral)).toBeLessThan(0);
    const agg = createAggregator({ placeholder: "NULL" });
    agg.add(rec(0, astral, "a"));
    agg.add(rec(0, bmpHigh, "b"));
    expect(agg.measures()[0]).toMatchObject({ mostCountry: bmpHigh, leastCountry: bmpHigh });
  });

  test("staging values parse; anything else is rejected", () => {
    expect(parseStagingValue('{"time_window":{"start":"1970-01-01T00:05:00.000Z","end":"1970-01-01T00:10:00.000Z"},"country":null,"users":"u"}')).toEqual(
      rec(W, null, "u"),
    );
    expect(parseStagingValue("nope")).toBeUndefined();
    expect(parseStagingValue('{"time_window":{}}')).toBeUndefined();
  });
});

describe("CSV", () => {
  test("header, ISO times, empty fields for a window without country, LF and a final newline", () => {
    const agg = createAggregator({ placeholder: "NULL" });
    agg.add(rec(0, null, "u"));
    expect(formatCsv(agg.measures())).toBe(
      "window_start,window_end,most_represented_country,most_represented_country_count,least_represented_country,least_represented_country_count,unique_users\n" +
        "1970-01-01T00:00:00.000Z,1970-01-01T00:05:00.000Z,,,,,1\n",
    );
  });

  test("a field is quoted only when it holds a comma, a quote or a line break, and reads back", () => {
    const agg = createAggregator({ placeholder: "NULL" });
    agg.add(rec(0, 'Korea, "South"', "u"));
    agg.add(rec(W, "Plain", "u"));
    agg.add(rec(2 * W, "Line\nBreak", "u"));
    const text = formatCsv(agg.measures());
    expect(text).toContain(',"Korea, ""South""",1,"Korea, ""South""",1,1\n');
    expect(text).toContain(",Plain,1,Plain,1,1\n");
    expect(parseCsv(text)[3]![2]).toBe("Line\nBreak");
    expect(measuresFromCsv(text)).toEqual(agg.measures());
  });
});

/** The measures as the string-keyed Sets and Maps of before the byte tables: the model. */
function modelMeasures(records: StagingRecord[], placeholder: string) {
  const windows = new Map<number, { end: number; users: Set<string>; countries: Map<string, number> }>();
  for (const r of records) {
    let state = windows.get(r.windowStart);
    if (!state) windows.set(r.windowStart, (state = { end: r.windowEnd, users: new Set(), countries: new Map() }));
    if (r.user !== null && r.user !== placeholder) state.users.add(r.user);
    if (r.country !== null) state.countries.set(r.country, (state.countries.get(r.country) ?? 0) + 1);
  }
  return [...windows].sort(([a], [b]) => a - b).map(([start, s]) => measureOf(start, s.end, s.users.size, s.countries));
}

describe("counting from bytes", () => {
  const row = (timestamp: number, country: string | null, email: string): CleanRow => ({
    id: 1, first_name: "a", last_name: null, email, gender: null, ip_addr: "1.2.3.4", date: null, country, timestamp, source_partition: 0, source_offset: 0n,
  });
  const text = fc.constantFrom("France", "Peru", "Côte d'Ivoire", "日本", "🎉", "NULL", "", 'a"b', "\ud800", "\ufffd", "e\u0301", "é", "a@b.c", "A@b.c");
  const value = fc
    .tuple(fc.integer({ min: 0, max: 4 }), fc.option(text, { nil: null }), text, fc.constantFrom("as written", "invalid utf-8", "spaced"))
    .map(([window, country, user, how]) => {
      const written = stagingMessage(row(window * 60_000 + 5, country, user), 60_000).value;
      if (how === "spaced") return Buffer.from(written.replace(',"users":', ', "users":'));
      const bytes = Buffer.from(written);
      // Invalid UTF-8 in the user's text: decodes to U+FFFD, as a real U+FFFD does.
      if (how === "invalid utf-8" && user !== "") bytes[bytes.length - 3] = 0xff;
      return bytes;
    });

  test("the same measures as string sets, whether each value is read in place or through JSON.parse", () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), fc.constantFrom("NULL", "\ufffd", "é"), (values, placeholder) => {
        // A damaged escape makes a value malformed: batch-measure skips it, and so does this.
        const records = values.map((v) => parseStagingValue(v.toString("utf8")));
        const inPlace = createAggregator({ placeholder });
        const parsed = createAggregator({ placeholder });
        const cache = createWindowCache();
        const fields = createStagingFields();
        for (const [i, v] of values.entries()) {
          const record = records[i];
          if (readStagingFields(v, cache, fields)) inPlace.addFields(v, fields);
          else if (record) inPlace.add(record);
          if (record) parsed.add(record);
        }
        const expected = modelMeasures(records.filter((r) => r !== undefined), placeholder);
        expect(inPlace.measures()).toEqual(expected);
        expect(parsed.measures()).toEqual(expected);
      }),
      { seed: 43, numRuns: 1500 },
    );
  });
});
