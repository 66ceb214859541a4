import { describe, expect, test } from "bun:test";
import { isRepresentableWindow, MAX_TIME_MS, parseDuration, windowOf } from "../../../src/clean/window.ts";

const FIVE_MINUTES = 300_000;

describe("windowOf", () => {
  test("windows are tumbling and aligned to the Unix epoch", () => {
    expect(windowOf(0, FIVE_MINUTES)).toEqual({ start: 0, end: FIVE_MINUTES });
    expect(windowOf(Date.UTC(2026, 0, 2, 3, 4, 5, 6), FIVE_MINUTES)).toEqual({
      start: Date.UTC(2026, 0, 2, 3, 0),
      end: Date.UTC(2026, 0, 2, 3, 5),
    });
  });

  test("a window is [start, end): its start is in it, its end belongs to the next window", () => {
    expect(windowOf(FIVE_MINUTES - 1, FIVE_MINUTES)).toEqual({ start: 0, end: FIVE_MINUTES });
    expect(windowOf(FIVE_MINUTES, FIVE_MINUTES)).toEqual({ start: FIVE_MINUTES, end: 2 * FIVE_MINUTES });
  });

  test("timestamps before the epoch round down too", () => {
    expect(windowOf(-1, FIVE_MINUTES)).toEqual({ start: -FIVE_MINUTES, end: 0 });
    expect(windowOf(-FIVE_MINUTES, FIVE_MINUTES)).toEqual({ start: -FIVE_MINUTES, end: 0 });
    expect(windowOf(-FIVE_MINUTES - 1, FIVE_MINUTES)).toEqual({ start: -2 * FIVE_MINUTES, end: -FIVE_MINUTES });
  });

  test("a window never starts at minus zero", () => {
    expect(Object.is(windowOf(-0, FIVE_MINUTES).start, 0)).toBe(true);
    expect(Object.is(windowOf(-FIVE_MINUTES, FIVE_MINUTES).end, 0)).toBe(true);
  });

  test("alignment is exact across the whole range of dates, for odd sizes too", () => {
    for (const size of [1, 3, 7, 1000, 59_999, FIVE_MINUTES, 3_600_000, 86_400_000]) {
      for (const timestamp of [MAX_TIME_MS - 1, MAX_TIME_MS - size, -MAX_TIME_MS + 1, 2 ** 52 + 1, -(2 ** 52) - 1, 1_767_323_045_006]) {
        const { start, end } = windowOf(timestamp, size);
        expect(start <= timestamp && timestamp < end).toBe(true);
        expect(end - start).toBe(size);
        expect(Math.abs(start % size)).toBe(0);
      }
    }
  });

  test("a size that is not a positive number gives no window (NaN bounds) instead of throwing", () => {
    for (const size of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const window = windowOf(1000, size);
      expect(Number.isNaN(window.start) && Number.isNaN(window.end)).toBe(true);
      expect(isRepresentableWindow(window)).toBe(false);
    }
  });

  test("a window is representable when both bounds fit in a Date", () => {
    expect(isRepresentableWindow(windowOf(0, FIVE_MINUTES))).toBe(true);
    expect(isRepresentableWindow(windowOf(-MAX_TIME_MS, FIVE_MINUTES))).toBe(true);
    expect(isRepresentableWindow(windowOf(MAX_TIME_MS - FIVE_MINUTES, FIVE_MINUTES))).toBe(true);
    expect(isRepresentableWindow(windowOf(MAX_TIME_MS - 1, 7))).toBe(false);
    expect(isRepresentableWindow(windowOf(MAX_TIME_MS, FIVE_MINUTES))).toBe(false);
    expect(isRepresentableWindow(windowOf(-MAX_TIME_MS - 1, FIVE_MINUTES))).toBe(false);
    expect(isRepresentableWindow(windowOf(2 ** 63, FIVE_MINUTES))).toBe(false);
    expect(isRepresentableWindow(windowOf(Number.NaN, FIVE_MINUTES))).toBe(false);
  });
});

describe("parseDuration", () => {
  test.each([
    ["5 minutes", 300_000], ["30s", 30_000], ["1h", 3_600_000], ["500ms", 500], ["2 hours", 7_200_000], ["1 minute", 60_000],
    ["1 day", 86_400_000], ["1w", 604_800_000], ["90 SEC", 90_000], ["  5 Minutes  ", 300_000], ["1h 30m", 5_400_000], ["1h30m", 5_400_000],
    ["1 hour, 30 minutes", 5_400_000], ["0.5s", 500], ["1.5 hours", 5_400_000], ["0.1h", 360_000], ["250 milliseconds", 250], ["1\tmin", 60_000],
  ])("%p is %p ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    [""], ["  "], ["30"], ["5 parsecs"], ["minutes"], ["-5s"], ["+5s"], ["5 s s"], ["0s"], ["0 minutes"], ["1.5ms"], ["0.0001s"], ["1e3s"],
    [".5s"], ["5.s"], ["5 minutes ago"], ["five minutes"], ["NaN s"], ["Infinity ms"], ["５s"], ["5_000ms"], ["9".repeat(400) + "ms"],
    ["99999999999999 weeks"],
  ])("%p is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test("a value that is not a string is not a duration", () => {
    expect(parseDuration(300 as unknown as string)).toBeUndefined();
    expect(parseDuration(null as unknown as string)).toBeUndefined();
  });
});
