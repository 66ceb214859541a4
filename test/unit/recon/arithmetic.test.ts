import { describe, expect, test } from "bun:test";
import { classifyTopic, createOccurrenceTable, gapsOf, topicRanges, topicVerdictOf, verdictOf } from "../../../src/recon/arithmetic.ts";

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

describe("whole-topic reconciliation arithmetic (recon --topic)", () => {
  const none = { committed: new Map<number, Set<number>>(), uncommitted: new Map<number, Set<number>>() };

  test("the checked range is [start, committed) per partition; a partition with nothing committed is not checked", () => {
    expect(topicRanges([{ partition: 0, start: 3, committed: 10, end: 12 }, { partition: 1, start: 5, committed: 5, end: 5 }])).toEqual([{ partition: 0, first: 3, last: 9 }]);
  });

  test("gaps are the offsets with neither row nor dead letter, as contiguous ranges per partition", () => {
    const table = createOccurrenceTable([{ partition: 0, first: 0, last: 9 }, { partition: 1, first: 0, last: 2 }]);
    for (const o of [0, 1, 4, 5, 6, 9]) table.add("row", 0, o);
    table.add("dead", 1, 1);
    expect(gapsOf(table)).toEqual([
      { partition: 0, first: 2, last: 3 },
      { partition: 0, first: 7, last: 8 },
      { partition: 1, first: 0, last: 0 },
      { partition: 1, first: 2, last: 2 },
    ]);
  });

  test("a gap offset neither read delivers is a control marker, one only read_uncommitted delivers is aborted: both not data, never missing", () => {
    const spans = [{ partition: 0, start: 0, committed: 10, end: 10 }];
    const table = createOccurrenceTable(topicRanges(spans));
    for (const o of [0, 1, 2, 3, 4]) table.add("row", 0, o); // committed transaction, marker at 5
    for (const o of [9]) table.add("dead", 0, o); // aborted 6..7, marker at 8, then a dead letter
    const counts = classifyTopic(table, spans, { committed: new Map([[0, new Set<number>()]]), uncommitted: new Map([[0, new Set([6, 7])]]) });
    expect(counts).toMatchObject({ offsets: 10, landed: 5, dead_lettered: 1, control_markers: 2, aborted: 2, not_data: 4, missing: 0, duplicated: 0, pending: 0 });
    expect(topicVerdictOf(counts)).toBe("ok");
  });

  test("a gap offset read_committed delivers is data without a row: missing, named partition:offset", () => {
    const spans = [{ partition: 2, start: 0, committed: 4, end: 4 }];
    const table = createOccurrenceTable(topicRanges(spans));
    for (const o of [0, 3]) table.add("row", 2, o);
    const counts = classifyTopic(table, spans, { committed: new Map([[2, new Set([1, 2])]]), uncommitted: new Map([[2, new Set([1, 2])]]) });
    expect(counts).toMatchObject({ missing: 2, not_data: 0, first_missing: ["2:1", "2:2"] });
    expect(topicVerdictOf(counts)).toBe("mismatch");
  });

  test("an offset in two rows, or a row and a dead letter, is duplicated", () => {
    const spans = [{ partition: 0, start: 0, committed: 2, end: 2 }];
    const table = createOccurrenceTable(topicRanges(spans));
    table.add("row", 0, 0);
    table.add("row", 0, 0);
    table.add("row", 0, 1);
    table.add("dead", 0, 1);
    const counts = classifyTopic(table, spans, none);
    expect(counts).toMatchObject({ duplicated: 2, first_duplicated: ["0:0", "0:1"] });
    expect(topicVerdictOf(counts)).toBe("mismatch");
  });

  test("offsets from the committed offset to the last stable offset are pending: behind, not missing", () => {
    const spans = [{ partition: 0, start: 0, committed: 3, end: 8 }, { partition: 1, start: 6, committed: 2, end: 10 }];
    const table = createOccurrenceTable(topicRanges(spans));
    for (const o of [0, 1, 2]) table.add("row", 0, o);
    const counts = classifyTopic(table, spans, none);
    expect(counts).toMatchObject({ offsets: 3, landed: 3, pending: 5 + 4, missing: 0 });
    expect(topicVerdictOf(counts)).toBe("behind");
  });

  test("rows outside the checked range (before --from-offset, past the committed offset) are ignored", () => {
    const spans = [{ partition: 0, start: 5, committed: 7, end: 7 }];
    const table = createOccurrenceTable(topicRanges(spans));
    expect(table.add("row", 0, 4)).toBe(false);
    expect(table.add("row", 0, 7)).toBe(false);
    table.add("row", 0, 5);
    table.add("row", 0, 6);
    expect(classifyTopic(table, spans, none)).toMatchObject({ offsets: 2, landed: 2, duplicated: 0 });
  });
});
