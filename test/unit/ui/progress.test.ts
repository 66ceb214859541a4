import { describe, expect, test } from "bun:test";
import { createProgress, formatCount, formatProgressLine } from "../../../src/ui/progress.ts";

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
