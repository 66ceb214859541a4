import { describe, expect, test } from "bun:test";
import { createProgress, formatProgressLine } from "../../../src/ui/progress.ts";

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
