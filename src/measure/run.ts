/**
 * The batch-measure job: reads the staging topic (read_committed, up to the end offsets seen at
 * start, no consumer group disturbed) and computes the measures per window. A full run keeps
 * its state in memory; --since-last keeps it in the ledger and reads only what is new, then
 * recomputes just the windows those messages touched and merges them into the existing CSV.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Kafka, KafkaMessage } from "kafkajs";
import { readTopicSnapshot } from "../kafka/snapshot.ts";
import type { Ledger, MeasureDelta } from "../ledger/ledger.ts";
import { writeFileDurably } from "../storage/durable.ts";
import { log } from "../ui/log.ts";
import { createAggregator, measureOf, parseStagingValue, type StagingRecord, type WindowMeasure } from "./aggregate.ts";
import { formatCsv, measuresFromCsv } from "./csv.ts";

export interface MeasureOptions {
  readonly stagingTopic: string;
  readonly placeholder: string;
  readonly output: string;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly sinceLast: boolean;
}

export interface MeasureSummary {
  topic: string;
  mode: "full" | "since-last";
  messages_read: number;
  malformed: number;
  windows: number;
  windows_recomputed: number;
  output: string;
  seconds: number;
  measures: WindowMeasure[];
}

export async function runMeasures(kafka: Kafka, ledger: Ledger | undefined, options: MeasureOptions): Promise<MeasureSummary> {
  const startedAt = performance.now();
  let malformed = 0;
  const decode = (message: KafkaMessage): StagingRecord | undefined => {
    const record = message.value ? parseStagingValue(message.value.toString("utf8")) : undefined;
    if (!record) malformed++;
    return record;
  };
  const inRange = (start: number) => (options.from === undefined || start >= options.from) && (options.to === undefined || start < options.to);

  let measures: WindowMeasure[];
  let recomputed: number;
  let read: number;
  if (!options.sinceLast) {
    const aggregator = createAggregator({ placeholder: options.placeholder, from: options.from, to: options.to });
    const result = await readTopicSnapshot(kafka, options.stagingTopic, (_partition, messages) => {
      for (const message of messages) {
        const record = decode(message);
        if (record) aggregator.add(record);
      }
    });
    read = result.messages;
    measures = aggregator.measures();
    recomputed = measures.length;
    writeOutput(options.output, measures);
  } else {
    const touched = new Set<number>();
    const result = await readTopicSnapshot(
      kafka,
      options.stagingTopic,
      (partition, messages) => {
        const delta = deltaOf(messages, partition, decode, options.placeholder);
        for (const start of delta.windows.keys()) touched.add(start);
        ledger!.applyMeasureDelta(options.stagingTopic, delta);
      },
      { from: ledger!.measureOffsets(options.stagingTopic) },
    );
    read = result.messages;
    const toMeasure = (stored: ReturnType<Ledger["measureWindows"]>) =>
      stored.map((w) => measureOf(w.windowStart, w.windowEnd, w.uniqueUsers, w.countries)).filter((m) => inRange(m.windowStart));
    const existing = options.output !== "-" && existsSync(options.output) ? measuresFromCsv(readFileSync(options.output, "utf8")) : undefined;
    if (existing) {
      const updated = toMeasure(ledger!.measureWindows(options.stagingTopic, [...touched]));
      const byStart = new Map(existing.filter((m) => inRange(m.windowStart)).map((m) => [m.windowStart, m]));
      for (const measure of updated) byStart.set(measure.windowStart, measure);
      measures = [...byStart.values()].sort((a, b) => a.windowStart - b.windowStart);
      recomputed = updated.length;
    } else {
      // No CSV to merge into (first run, or it was removed): write every window the state holds.
      measures = toMeasure(ledger!.measureWindows(options.stagingTopic));
      recomputed = measures.length;
    }
    writeOutput(options.output, measures);
  }
  if (malformed > 0) log.warn(`${malformed} staging messages were not kstream staging JSON and were skipped`);
  return {
    topic: options.stagingTopic,
    mode: options.sinceLast ? "since-last" : "full",
    messages_read: read,
    malformed,
    windows: measures.length,
    windows_recomputed: recomputed,
    output: options.output,
    seconds: (performance.now() - startedAt) / 1000,
    measures,
  };
}

function deltaOf(messages: KafkaMessage[], partition: number, decode: (m: KafkaMessage) => StagingRecord | undefined, placeholder: string): MeasureDelta {
  const windows = new Map<number, number>();
  const users: Array<readonly [number, string]> = [];
  const countries = new Map<string, number>();
  for (const message of messages) {
    const record = decode(message);
    if (!record) continue;
    windows.set(record.windowStart, record.windowEnd);
    if (record.user !== null && record.user !== placeholder) users.push([record.windowStart, record.user]);
    if (record.country !== null) {
      const key = `${record.windowStart}\u0000${record.country}`;
      countries.set(key, (countries.get(key) ?? 0) + 1);
    }
  }
  return { windows, users, countries, partition, nextOffset: BigInt(messages.at(-1)!.offset) + 1n };
}

/** The CSV appears whole and durably (storage/durable.ts): a reader never sees half a file. */
function writeOutput(output: string, measures: WindowMeasure[]): void {
  if (output === "-") return;
  writeFileDurably(output, formatCsv(measures));
}
