/**
 * Reconciliation arithmetic, pure: for every offset a producer run owns (its acknowledged ranges),
 * how many Parquet rows and dead letters carry it, compared with the group's committed offset.
 * Exactly one below the committed offset = accounted for; none below it = missing; more than one
 * anywhere = duplicated; at or beyond it = pending (not yet consumed, or written but uncommitted).
 */

export interface OffsetRange {
  readonly partition: number;
  readonly first: number;
  readonly last: number;
}

/** How many occurrences of each offset of the run's ranges: one counter per offset, 1 byte each. */
export interface OccurrenceTable {
  /** Counts an occurrence; false when the offset is outside the run's ranges. */
  add(kind: "row" | "dead", partition: number, offset: number): boolean;
  classify(committed: ReadonlyMap<number, number>, topicEnd: ReadonlyMap<number, number>, sampleSize?: number): ReconCounts;
}

export interface ReconCounts {
  published: number;
  landed: number;
  dead_lettered: number;
  pending: number;
  missing: number;
  duplicated: number;
  /** Offsets the ledger counts but the topic does not hold (beyond its end): a ledger/topic mismatch. */
  not_in_topic: number;
  first_missing: string[];
  first_duplicated: string[];
}

export type Verdict = "ok" | "behind" | "mismatch";

export function verdictOf(counts: ReconCounts): Verdict {
  if (counts.missing > 0 || counts.duplicated > 0 || counts.not_in_topic > 0) return "mismatch";
  if (counts.pending > 0) return "behind";
  return "ok";
}

export function createOccurrenceTable(ranges: readonly OffsetRange[]): OccurrenceTable {
  const byPartition = new Map<number, Array<{ range: OffsetRange; rows: Uint8Array; dead: Uint8Array }>>();
  for (const range of ranges) {
    const length = range.last - range.first + 1;
    const list = byPartition.get(range.partition) ?? [];
    list.push({ range, rows: new Uint8Array(length), dead: new Uint8Array(length) });
    byPartition.set(range.partition, list);
  }
  const bump = (counts: Uint8Array, index: number) => {
    if (counts[index]! < 255) counts[index]!++;
  };
  return {
    add(kind, partition, offset) {
      for (const slot of byPartition.get(partition) ?? []) {
        if (offset >= slot.range.first && offset <= slot.range.last) {
          bump(kind === "row" ? slot.rows : slot.dead, offset - slot.range.first);
          return true;
        }
      }
      return false;
    },
    classify(committed, topicEnd, sampleSize = 10) {
      const counts: ReconCounts = {
        published: 0, landed: 0, dead_lettered: 0, pending: 0, missing: 0, duplicated: 0, not_in_topic: 0, first_missing: [], first_duplicated: [],
      };
      for (const [partition, slots] of [...byPartition].sort(([a], [b]) => a - b)) {
        const committedOffset = committed.get(partition) ?? 0;
        const end = topicEnd.get(partition) ?? Number.POSITIVE_INFINITY;
        for (const { range, rows, dead } of slots) {
          for (let index = 0; index < rows.length; index++) {
            const offset = range.first + index;
            counts.published++;
            const total = rows[index]! + dead[index]!;
            if (offset >= end) {
              counts.not_in_topic++;
              if (counts.first_missing.length < sampleSize) counts.first_missing.push(`${partition}:${offset}`);
            } else if (total > 1) {
              counts.duplicated++;
              if (counts.first_duplicated.length < sampleSize) counts.first_duplicated.push(`${partition}:${offset}`);
            } else if (offset >= committedOffset) {
              counts.pending++;
            } else if (total === 0) {
              counts.missing++;
              if (counts.first_missing.length < sampleSize) counts.first_missing.push(`${partition}:${offset}`);
            } else if (rows[index] === 1) {
              counts.landed++;
            } else {
              counts.dead_lettered++;
            }
          }
        }
      }
      return counts;
    },
  };
}
