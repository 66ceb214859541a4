/**
 * Reconciliation arithmetic, pure: for every offset a producer run owns (its acknowledged ranges),
 * how many Parquet rows and dead letters carry it, compared with the group's committed offset.
 * Exactly one below the committed offset = accounted for; none below it = missing; more than one
 * anywhere = duplicated; at or beyond it = pending (not yet consumed, or written but uncommitted).
 *
 * For a whole topic (`recon --topic`) the ranges are [start, committed) per partition, and an
 * offset with neither row nor dead letter is missing only if it holds data: a control marker or
 * an aborted record there is "not data" (see classifyTopic).
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
  /** Rows plus dead letters carrying this offset (0 outside the ranges). */
  count(partition: number, offset: number): number;
  /** Every offset of the ranges in order, partition by partition, with its row and dead-letter counts. */
  forEach(visit: (partition: number, offset: number, rows: number, dead: number) => void): void;
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
    count(partition, offset) {
      for (const slot of byPartition.get(partition) ?? []) {
        if (offset >= slot.range.first && offset <= slot.range.last) return slot.rows[offset - slot.range.first]! + slot.dead[offset - slot.range.first]!;
      }
      return 0;
    },
    forEach(visit) {
      for (const [partition, slots] of [...byPartition].sort(([a], [b]) => a - b)) {
        for (const { range, rows, dead } of slots) {
          for (let index = 0; index < rows.length; index++) visit(partition, range.first + index, rows[index]!, dead[index]!);
        }
      }
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

/** One partition of a whole-topic reconciliation: offsets [start, committed) are checked, [committed, end) pending. */
export interface TopicSpan {
  readonly partition: number;
  readonly start: number;
  readonly committed: number;
  /** The last stable offset. */
  readonly end: number;
}

export interface TopicCounts {
  /** Offsets checked: [start, committed) over all partitions. */
  offsets: number;
  landed: number;
  dead_lettered: number;
  /** control_markers + aborted: offsets that hold no data, never missing. */
  not_data: number;
  control_markers: number;
  aborted: number;
  /** Offsets in [committed, end): not consumed yet (markers among them included). */
  pending: number;
  missing: number;
  duplicated: number;
  first_missing: string[];
  first_duplicated: string[];
}

/** The occurrence-table ranges of a whole-topic reconciliation. */
export function topicRanges(spans: readonly TopicSpan[]): OffsetRange[] {
  return spans.filter((s) => s.committed > s.start).map((s) => ({ partition: s.partition, first: s.start, last: s.committed - 1 }));
}

/** Offsets with neither row nor dead letter, as contiguous ranges: the only ones that need a look at the topic. */
export function gapsOf(table: OccurrenceTable): OffsetRange[] {
  const gaps: { partition: number; first: number; last: number }[] = [];
  table.forEach((partition, offset, rows, dead) => {
    if (rows + dead > 0) return;
    const last = gaps.at(-1);
    if (last && last.partition === partition && last.last + 1 === offset) last.last = offset;
    else gaps.push({ partition, first: offset, last: offset });
  });
  return gaps;
}

/** What reading the gaps found: offsets delivered read_committed (data) and read_uncommitted (data or aborted). */
export interface GapFindings {
  readonly committed: ReadonlyMap<number, ReadonlySet<number>>;
  readonly uncommitted: ReadonlyMap<number, ReadonlySet<number>>;
}

/**
 * A gap offset (below the committed offset, so below the last stable offset: its transaction is
 * decided) that read_committed delivers is data without a row: missing. One only read_uncommitted
 * delivers is an aborted record; one neither delivers is a control marker (no consumer ever gets
 * those). More than one row or dead letter is duplicated.
 */
export function classifyTopic(table: OccurrenceTable, spans: readonly TopicSpan[], found: GapFindings, sampleSize = 10): TopicCounts {
  const counts: TopicCounts = {
    offsets: 0, landed: 0, dead_lettered: 0, not_data: 0, control_markers: 0, aborted: 0, pending: 0, missing: 0, duplicated: 0, first_missing: [], first_duplicated: [],
  };
  table.forEach((partition, offset, rows, dead) => {
    counts.offsets++;
    const total = rows + dead;
    if (total > 1) {
      counts.duplicated++;
      if (counts.first_duplicated.length < sampleSize) counts.first_duplicated.push(`${partition}:${offset}`);
    } else if (total === 1) {
      if (rows === 1) counts.landed++;
      else counts.dead_lettered++;
    } else if (found.committed.get(partition)?.has(offset)) {
      counts.missing++;
      if (counts.first_missing.length < sampleSize) counts.first_missing.push(`${partition}:${offset}`);
    } else if (found.uncommitted.get(partition)?.has(offset)) {
      counts.aborted++;
    } else {
      counts.control_markers++;
    }
  });
  counts.not_data = counts.control_markers + counts.aborted;
  for (const span of spans) counts.pending += Math.max(0, span.end - Math.max(span.committed, span.start));
  return counts;
}

export function topicVerdictOf(counts: TopicCounts): Verdict {
  if (counts.missing > 0 || counts.duplicated > 0) return "mismatch";
  if (counts.pending > 0) return "behind";
  return "ok";
}
