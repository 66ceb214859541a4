import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createProgress, formatCount, formatProgressLine, formatTenths } from "../../../src/ui/progress.ts";

describe("progress", () => {
  test("the line shows records, rate, MB/s and an ETA when the total size is known", () => {
    const line = formatProgressLine("produced", { records: 5000, bytes: 5_000_000 }, 2, 10_000_000);
    expect(line).toContain("5,000 records");
    expect(line).toContain("2,500/s");
    expect(line).toContain("2.5 MB/s");
    expect(line).toContain("50%");
    expect(line).toContain("ETA 2.0s");
  });

  test("a TTY gets a redrawn line, cleared at the end", () => {
    let clock = 0;
    const written: string[] = [];
    const progress = createProgress({ label: "x", tty: true, now: () => clock, write: (t) => written.push(t) });
    clock = 500;
    progress.update({ records: 10 });
    progress.done();
    expect(written[0]).toStartWith("\r\x1b[2K");
    expect(written.at(-1)).toBe("\r\x1b[2K");
  });

  test("without a TTY nothing is redrawn between the periodic lines", () => {
    let clock = 0;
    const written: string[] = [];
    const progress = createProgress({ label: "x", tty: false, plainEverySeconds: 10, now: () => clock, write: (t) => written.push(t) });
    clock = 5000;
    progress.update({ records: 10 });
    progress.done();
    expect(written).toEqual([]);
  });
});

describe("formatCount", () => {
  test("groups digits by three with commas, like en-US toLocaleString", () => {
    for (const value of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 123_456_789, -1, -1234, -1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(formatCount(value)).toBe(value.toLocaleString("en-US"));
    }
  });

  test("leaves fractions and non-finite values to toLocaleString", () => {
    expect(formatCount(1234.5)).toBe("1,234.5");
    expect(formatCount(Number.NaN)).toBe("NaN");
  });
});

describe("formatTenths", () => {
  const icu = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

  test("writes one decimal with commas exactly as en-US toLocaleString, halves and doubles just below them included", () => {
    for (const value of [0, -0, 0.05, 0.15, 0.25, 0.95, 1.05, 9.95, 999.95, 1234.5, 12_345.65, -0.04, -0.05, -1234.56, 1e-7, 99_999_999_999_999.9, 1e15 + 0.5, 2 ** 53, 1e21, Number.NaN, Infinity]) {
      expect(formatTenths(value)).toBe(icu(value));
    }
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -1e7, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 10_000_000 }).map((n) => n / 100)), (value) => {
        expect(formatTenths(value)).toBe(icu(value));
      }),
      { seed: 31, numRuns: 2000 },
    );
  });
});
