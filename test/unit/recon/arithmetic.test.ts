import { describe, expect, test } from "bun:test";
import { createOccurrenceTable, verdictOf } from "../../../src/recon/arithmetic.ts";

const committedAll = new Map([[0, 100], [1, 100]]);
const endAll = new Map([[0, 100], [1, 100]]);

describe("reconciliation arithmetic", () => {
  test("each offset exactly once below the committed offset is OK", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 10, last: 19 }]);
    for (let o = 10; o < 18; o++) table.add("row", 0, o);
    table.add("dead", 0, 18);
    table.add("dead", 0, 19);
    const counts = table.classify(committedAll, endAll);
    expect(counts).toMatchObject({ published: 10, landed: 8, dead_lettered: 2, pending: 0, missing: 0, duplicated: 0 });
    expect(verdictOf(counts)).toBe("ok");
  });

  test("offsets at or past the committed offset are pending, not missing: the consumer is behind", () => {
    const table = createOccurrenceTable([{ partition: 1, first: 0, last: 9 }]);
    for (let o = 0; o < 4; o++) table.add("row", 1, o);
    table.add("row", 1, 5); // written but not yet committed
    const counts = table.classify(new Map([[1, 4]]), endAll);
    expect(counts).toMatchObject({ landed: 4, pending: 6, missing: 0 });
    expect(verdictOf(counts)).toBe("behind");
  });

  test("a committed offset with no row and no dead letter is missing, and named", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 0, last: 4 }]);
    for (const o of [0, 1, 3, 4]) table.add("row", 0, o);
    const counts = table.classify(committedAll, endAll);
    expect(counts).toMatchObject({ missing: 1, first_missing: ["0:2"] });
    expect(verdictOf(counts)).toBe("mismatch");
  });

  test("an offset in two rows, or in a row and a dead letter, is duplicated", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 0, last: 2 }]);
    table.add("row", 0, 0);
    table.add("row", 0, 0);
    table.add("row", 0, 1);
    table.add("dead", 0, 1);
    table.add("row", 0, 2);
    const counts = table.classify(committedAll, endAll);
    expect(counts).toMatchObject({ duplicated: 2, landed: 1, first_duplicated: ["0:0", "0:1"] });
    expect(verdictOf(counts)).toBe("mismatch");
  });

  test("offsets outside the run's ranges are not counted", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 5, last: 6 }]);
    expect(table.add("row", 0, 4)).toBe(false);
    expect(table.add("row", 1, 5)).toBe(false);
    expect(table.add("row", 0, 5)).toBe(true);
  });

  test("offsets the ledger counts beyond the topic's end are a mismatch", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 98, last: 101 }]);
    table.add("row", 0, 98);
    table.add("row", 0, 99);
    const counts = table.classify(committedAll, endAll);
    expect(counts.not_in_topic).toBe(2);
    expect(verdictOf(counts)).toBe("mismatch");
  });
});
