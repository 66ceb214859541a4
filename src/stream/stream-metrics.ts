/**
 * stream-clean's own metrics (`--serve`, README "stream-clean's own metrics"): what this process
 * read, cleaned and dead-lettered, its cycles and their commit latency, the Parquet it wrote, the
 * rows it holds, where each of its partitions stands, and its memory. Counts that the run's
 * summary also reports are read from its StreamCounters at each scrape, so a scrape and the final
 * `--json` summary never disagree; what the summary does not hold (reasons, latency, bytes, why a
 * cycle was aborted) is kept here, fed by the cycles through `events`. Pure: every live figure
 * comes from `sources`.
 */
import { DEAD_LETTER_REASONS } from "../clean/types.ts";
import { Registry } from "../prometheus/registry.ts";
import type { Sample } from "../prometheus/text.ts";
import type { CycleAbortReason, CycleEvents, StreamCounters } from "./types.ts";

/** Upper bounds (seconds) of the commit latency buckets: from a few milliseconds to a slow disk or a broker failing over. */
export const COMMIT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const ABORT_REASONS: readonly CycleAbortReason[] = ["dropped", "refused", "in_doubt"];

/** What the metrics read of a partition's current cycle. */
export interface MeteredCycle {
  readonly partition: number;
  readonly offsetToCommit: bigint;
  readonly committedOffset: bigint;
  readonly bufferedRows: number;
}

export interface StreamMetricsSources {
  readonly counters: Readonly<StreamCounters>;
  /** The cycles that take batches now (one per partition with a ready slot). */
  readonly cycles: () => readonly MeteredCycle[];
  /** Per partition, the high watermark of its last fetched batch. */
  readonly highWatermarks: ReadonlyMap<number, bigint>;
  readonly memory: () => { readonly rss: number; readonly heapUsed: number };
}

export interface StreamMetrics {
  /** For the cycles (WorkerContext.events). */
  readonly events: CycleEvents;
  /** Every metric now, in the Prometheus text format. */
  format(): string;
}

export function createStreamMetrics(sources: StreamMetricsSources): StreamMetrics {
  const { counters } = sources;
  const registry = new Registry();
  const counted = (name: string, help: string, value: () => number) => registry.collect(name, help, "counter", () => [[{}, value()]]);
  const perPartition = (value: (cycle: MeteredCycle) => number | null): (() => Sample[]) => () =>
    [...sources.cycles()].sort((a, b) => a.partition - b.partition).map((cycle) => [{ partition: cycle.partition }, value(cycle)] as const);

  counted("kstream_clean_records_read_total", "Input records read for the first time by this process (the summary's read)", () => counters.read);
  counted("kstream_clean_records_read_again_total", "Input records read again after their partition restarted or moved (the summary's read_again)", () => counters.read_again);
  counted("kstream_clean_records_cleaned_total", "Records cleaned into a Parquet row and a staging message (the summary's cleaned)", () => counters.cleaned);
  const deadLettered = registry.counter(
    "kstream_clean_dead_lettered_total",
    "Records sent to the dead-letter topic, by reason (summed: the summary's dead_lettered)",
    DEAD_LETTER_REASONS.map((reason) => ({ reason })),
  );
  counted("kstream_clean_cycles_committed_total", "Cycles committed: one Kafka transaction each, with the consumer offset (the summary's commits)", () => counters.commits);
  const aborted = registry.counter(
    "kstream_clean_cycles_aborted_total",
    "Cycles that opened a transaction and did not commit it, by reason: dropped (rebalance, restart, failed run), refused (fenced by another owner, full disk), in_doubt (commit failed retriably)",
    ABORT_REASONS.map((reason) => ({ reason })),
  );
  const commitSeconds = registry.histogram(
    "kstream_clean_commit_seconds",
    "Seconds a committed cycle's end took: sends awaited, Parquet written and renamed into place, offsets sent, transaction committed",
    COMMIT_SECONDS_BUCKETS,
  );
  counted("kstream_clean_parquet_files_total", "Parquet files written by committed cycles (the summary's files)", () => counters.files);
  const parquetBytes = registry.counter("kstream_clean_parquet_bytes_total", "Bytes of the Parquet files written by committed cycles");
  registry.collect("kstream_clean_rows_buffered", "Cleaned rows held in memory by open cycles, over all partitions (bounded by clean.max_buffered_rows)", "gauge", () => [
    [{}, sources.cycles().reduce((total, cycle) => total + cycle.bufferedRows, 0)],
  ]);
  registry.collect(
    "kstream_clean_partition_position",
    "Offset of the next record the partition's cycle takes (one past the last it processed)",
    "gauge",
    perPartition((cycle) => Number(cycle.offsetToCommit)),
  );
  registry.collect(
    "kstream_clean_partition_committed_offset",
    "Offset this process last committed for the partition (everything below it is durable)",
    "gauge",
    perPartition((cycle) => Number(cycle.committedOffset)),
  );
  registry.collect(
    "kstream_clean_partition_lag",
    "Records of the partition not processed yet: the high watermark of its last fetch minus its position (absent before its first fetch)",
    "gauge",
    perPartition((cycle) => {
      const high = sources.highWatermarks.get(cycle.partition);
      return high === undefined ? null : Math.max(0, Number(high - cycle.offsetToCommit));
    }),
  );
  registry.collect("process_resident_memory_bytes", "Resident memory size of the process, in bytes", "gauge", () => [[{}, sources.memory().rss]]);
  registry.collect("kstream_clean_heap_bytes", "Bytes of the JavaScript heap in use", "gauge", () => [[{}, sources.memory().heapUsed]]);

  return {
    events: {
      deadLettered: (reason) => deadLettered.inc({ reason }),
      committed: (seconds, written) => {
        commitSeconds.observe(seconds);
        parquetBytes.inc({}, written.bytes);
      },
      aborted: (reason) => aborted.inc({ reason }),
    },
    format: () => registry.format(),
  };
}
