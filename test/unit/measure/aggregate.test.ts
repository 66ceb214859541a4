import { describe, expect, test } from "bun:test";
import { compareCodePoints, createAggregator, parseStagingValue } from "../../../src/measure/aggregate.ts";
import { formatCsv, measuresFromCsv, parseCsv } from "../../../src/measure/csv.ts";

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
