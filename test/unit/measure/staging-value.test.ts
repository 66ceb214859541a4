/**
 * The in-place staging reader against the JSON.parse one it stands in for: every value, whether
 * in stream-clean's layout or not, gives the same record or the same rejection (seeded).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { stagingMessage } from "../../../src/clean/staging.ts";
import type { CleanRow } from "../../../src/clean/types.ts";
import { parseStagingValue, type StagingRecord } from "../../../src/measure/aggregate.ts";
import { createWindowCache, readStagingValue } from "../../../src/measure/staging-value.ts";

const row = (timestamp: number, country: string | null, email: string): CleanRow => ({
  id: 1, first_name: "a", last_name: null, email, gender: null, ip_addr: "1.2.3.4", date: null, country, timestamp, source_partition: 0, source_offset: 0n,
});

const text = fc.oneof(
  fc.constantFrom("France", "Côte d'Ivoire", "日本", "🎉", "NULL", "", 'a"b', "a\\b", "tab\there", "\u0000", "\ud800", "x\u2028y"),
  fc.string({ unit: "binary", maxLength: 12 }),
);
const timestamp = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(0, 1_700_000_000_000, 253_402_300_799_999));
const window = fc.constantFrom(60_000, 300_000, 3_600_000);
const staged = fc.tuple(timestamp, window, fc.option(text, { nil: null }), text).map(([t, w, country, email]) => stagingMessage(row(t, country, email), w).value);

/** What a value may be made into before it reaches the reader: as written, or bent out of the layout. */
const bent = fc.tuple(staged, fc.nat(), fc.constantFrom("none", "byte", "cut", "space", "reorder", "invalid-utf8", "date")).map(([value, at, how]) => {
  const bytes = Buffer.from(value, "utf8");
  const i = bytes.length === 0 ? 0 : at % bytes.length;
  switch (how) {
    case "byte":
      return Buffer.concat([bytes.subarray(0, i), Buffer.from([at % 256]), bytes.subarray(i + 1)]);
    case "cut":
      return bytes.subarray(0, i);
    case "space":
      return Buffer.from(value.replace(/,"users":/, ', "users" : ') + " ");
    case "reorder":
      return Buffer.from(JSON.stringify({ users: "u", ...JSON.parse(value) }));
    case "invalid-utf8":
      return Buffer.from(value.replace(/"users":"/, '"users":"\u0000').replace("\u0000", "\uFFFD"), "utf8").fill(0xff, i, Math.min(i + 1, bytes.length));
    case "date":
      return Buffer.from(value.replace(/T(\d\d)/, "T9$1").replace(/:\d\d\./, ":6é."));
    default:
      return bytes;
  }
});

describe("reading staging values in place", () => {
  test("every value gives the record, or the rejection, that JSON.parse gives, across a stream sharing one cache", () => {
    fc.assert(
      fc.property(fc.array(bent, { minLength: 1, maxLength: 30 }), (values) => {
        const cache = createWindowCache();
        for (const value of values) expect(readStagingValue(value, cache, parseStagingValue)).toEqual(parseStagingValue(value.toString("utf8")));
      }),
      { seed: 31, numRuns: 2000 },
    );
  });

  test("stream-clean's own values without escapes are read without JSON.parse", () => {
    const cache = createWindowCache();
    const slow = (): StagingRecord | undefined => {
      throw new Error("the JSON.parse reader was asked");
    };
    const values = [row(1_700_000_000_000, "Côte d'Ivoire", "zoë@example.org"), row(1_700_000_000_001, null, "a@b.c"), row(1_700_000_400_000, "日本", "NULL")];
    expect(values.map((r) => readStagingValue(Buffer.from(stagingMessage(r, 300_000).value), cache, slow))).toEqual([
      { windowStart: 1_699_999_800_000, windowEnd: 1_700_000_100_000, country: "Côte d'Ivoire", user: "zoë@example.org" },
      { windowStart: 1_699_999_800_000, windowEnd: 1_700_000_100_000, country: null, user: "a@b.c" },
      { windowStart: 1_700_000_400_000, windowEnd: 1_700_000_700_000, country: "日本", user: "NULL" },
    ]);
  });

  test("a value with escapes goes to the JSON.parse reader", () => {
    const value = Buffer.from(stagingMessage(row(0, 'say "hi"', "a\\b"), 60_000).value);
    expect(readStagingValue(value, createWindowCache(), parseStagingValue)).toEqual({ windowStart: 0, windowEnd: 60_000, country: 'say "hi"', user: "a\\b" });
  });
});
