import { describe, expect, test } from "bun:test";
import { segmentsOf } from "../../../src/recon/in-doubt.ts";

describe("segmentsOf (a request in doubt found on the topic)", () => {
  test("one record batch is one segment", () => {
    expect(segmentsOf([12, 10, 11, 13])).toEqual([{ firstOffset: 10, count: 4 }]);
  });

  test("offsets with a gap (another writer in between) become separate segments", () => {
    expect(segmentsOf([5, 6, 9, 10, 11])).toEqual([
      { firstOffset: 5, count: 2 },
      { firstOffset: 9, count: 3 },
    ]);
  });

  test("nothing found is no segment", () => {
    expect(segmentsOf([])).toEqual([]);
  });
});
