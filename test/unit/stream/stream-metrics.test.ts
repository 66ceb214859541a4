import { describe, expect, test } from "bun:test";
import { createStreamMetrics, type MeteredCycle } from "../../../src/stream/stream-metrics.ts";
import type { StreamCounters } from "../../../src/stream/types.ts";

function setUp() {
  const counters: StreamCounters = { read: 0, read_again: 0, cleaned: 0, dead_lettered: 0, files: 0, commits: 0 };
  let cycles: MeteredCycle[] = [];
  const highWatermarks = new Map<number, bigint>();
  const metrics = createStreamMetrics({ counters, cycles: () => cycles, highWatermarks, memory: () => ({ rss: 50_000_000, heapUsed: 20_000_000 }) });
  return { metrics, counters, highWatermarks, setCycles: (next: MeteredCycle[]) => (cycles = next) };
}

/** The value of one sample line, by its name and labels as written. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("stream-clean's own metrics", () => {
  test("the counts the summary reports are read from its counters at each scrape", () => {
    const { metrics, counters } = setUp();
    expect(sample(metrics.format(), "kstream_clean_records_read_total")).toBe(0);
    Object.assign(counters, { read: 120, read_again: 4, cleaned: 100, dead_lettered: 20, files: 3, commits: 2 });
    const text = metrics.format();
    expect(sample(text, "kstream_clean_records_read_total")).toBe(120);
    expect(sample(text, "kstream_clean_records_read_again_total")).toBe(4);
    expect(sample(text, "kstream_clean_records_cleaned_total")).toBe(100);
    expect(sample(text, "kstream_clean_parquet_files_total")).toBe(3);
    expect(sample(text, "kstream_clean_cycles_committed_total")).toBe(2);
    expect(text).toContain("# TYPE kstream_clean_records_read_total counter\n");
  });

  test("dead letters by reason and aborted cycles by reason start at 0 for every reason and count the cycles' events", () => {
    const { metrics } = setUp();
    const before = metrics.format();
    for (const reason of ["invalid_json", "not_an_object", "invalid_id", "invalid_timestamp"]) expect(sample(before, `kstream_clean_dead_lettered_total{reason="${reason}"}`)).toBe(0);
    for (const reason of ["dropped", "refused", "in_doubt"]) expect(sample(before, `kstream_clean_cycles_aborted_total{reason="${reason}"}`)).toBe(0);
    metrics.events.deadLettered("invalid_id");
    metrics.events.deadLettered("invalid_id");
    metrics.events.aborted("in_doubt");
    const after = metrics.format();
    expect(sample(after, 'kstream_clean_dead_lettered_total{reason="invalid_id"}')).toBe(2);
    expect(sample(after, 'kstream_clean_cycles_aborted_total{reason="in_doubt"}')).toBe(1);
  });

  test("a committed cycle adds its latency to the histogram and its bytes to the Parquet bytes", () => {
    const { metrics } = setUp();
    metrics.events.committed(0.03, { files: 2, bytes: 7000 });
    metrics.events.committed(2, { files: 1, bytes: 500 });
    const text = metrics.format();
    expect(sample(text, 'kstream_clean_commit_seconds_bucket{le="0.025"}')).toBe(0);
    expect(sample(text, 'kstream_clean_commit_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'kstream_clean_commit_seconds_bucket{le="2.5"}')).toBe(2);
    expect(sample(text, 'kstream_clean_commit_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, "kstream_clean_commit_seconds_count")).toBe(2);
    expect(sample(text, "kstream_clean_commit_seconds_sum")).toBe(2.03);
    expect(sample(text, "kstream_clean_parquet_bytes_total")).toBe(7500);
  });

  test("rows buffered, positions and lag come from the current cycles; lag is absent before a partition's first fetch", () => {
    const { metrics, highWatermarks, setCycles } = setUp();
    setCycles([
      { partition: 1, offsetToCommit: 40n, committedOffset: 30n, bufferedRows: 10 },
      { partition: 0, offsetToCommit: 5n, committedOffset: 5n, bufferedRows: 0 },
    ]);
    highWatermarks.set(1, 100n);
    highWatermarks.set(7, 9n); // a partition this process no longer holds
    const text = metrics.format();
    expect(sample(text, "kstream_clean_rows_buffered")).toBe(10);
    expect(sample(text, 'kstream_clean_partition_position{partition="1"}')).toBe(40);
    expect(sample(text, 'kstream_clean_partition_committed_offset{partition="1"}')).toBe(30);
    expect(sample(text, 'kstream_clean_partition_lag{partition="1"}')).toBe(60);
    expect(sample(text, 'kstream_clean_partition_lag{partition="0"}')).toBeUndefined();
    expect(text).not.toContain('partition="7"');
    expect(text.indexOf('kstream_clean_partition_position{partition="0"}')).toBeLessThan(text.indexOf('kstream_clean_partition_position{partition="1"}'));
  });

  test("memory is the process's resident size and its JavaScript heap in use", () => {
    const text = setUp().metrics.format();
    expect(sample(text, "process_resident_memory_bytes")).toBe(50_000_000);
    expect(sample(text, "kstream_clean_heap_bytes")).toBe(20_000_000);
  });
});
