import { describe, expect, test } from "bun:test";
import { uncoveredParts } from "../../../src/ledger/offset-ranges.ts";

describe("uncoveredParts (what of an acknowledged span the ledger does not hold yet)", () => {
  test("nothing recorded: the whole span", () => {
    expect(uncoveredParts(10, 19, [])).toEqual([{ first: 10, last: 19 }]);
  });

  test("a span already recorded, or inside a recorded one, adds nothing", () => {
    expect(uncoveredParts(10, 19, [{ first: 10, last: 19 }])).toEqual([]);
    expect(uncoveredParts(12, 14, [{ first: 0, last: 99 }])).toEqual([]);
  });

  test("overlaps at either end leave the middle or the tail", () => {
    expect(uncoveredParts(10, 19, [{ first: 5, last: 12 }])).toEqual([{ first: 13, last: 19 }]);
    expect(uncoveredParts(10, 19, [{ first: 17, last: 30 }])).toEqual([{ first: 10, last: 16 }]);
    expect(uncoveredParts(10, 19, [{ first: 12, last: 13 }, { first: 15, last: 15 }])).toEqual([
      { first: 10, last: 11 },
      { first: 14, last: 14 },
      { first: 16, last: 19 },
    ]);
  });

  test("recorded spans in any order, overlapping each other or outside the span, are handled", () => {
    expect(uncoveredParts(10, 19, [{ first: 30, last: 40 }, { first: 14, last: 16 }, { first: 0, last: 3 }, { first: 12, last: 15 }])).toEqual([
      { first: 10, last: 11 },
      { first: 17, last: 19 },
    ]);
  });
});
