/**
 * The batch-measure job: reads the staging topic (read_committed, up to the end offsets seen at
 * start, no consumer group disturbed) and computes the measures per window. A full run keeps
 * its state in memory; --since-last keeps it in the ledger and reads only what is new, then
 * recomputes just the windows whose state changed and merges them into the existing CSV; runs of
 * it never overlap (a lease per staging topic), and none could double-count if they did.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Kafka, KafkaMessage } from "kafkajs";
import { StaleStateError } from "../errors.ts";
import { readTopicSnapshot } from "../kafka/snapshot.ts";
import type { Ledger, MeasureDelta } from "../ledger/ledger.ts";
import { writeFileDurably } from "../storage/durable.ts";
import { log } from "../ui/log.ts";
import { createAggregator, measureOf, parseStagingValue, type StagingRecord, type WindowMeasure } from "./aggregate.ts";
import { formatCsv, measuresFromCsv } from "./csv.ts";
import { createStagingFields, createWindowCache, readStagingFields, readStagingValue } from "./staging-value.ts";

export interface MeasureOptions {
  readonly stagingTopic: string;
  readonly placeholder: string;
  readonly output: string;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly sinceLast: boolean;
  /** --since-last: how long to wait for another run holding the state (ledger.job_wait), and when a silent holder counts as gone (ledger.heartbeat_timeout). */
  readonly lease?: { readonly waitMs: number; readonly staleAfterMs: number };
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
  const windowCache = createWindowCache();
  const decode = (message: KafkaMessage): StagingRecord | undefined => {
    const record = message.value ? readStagingValue(message.value, windowCache, parseStagingValue) : undefined;
    if (!record) malformed++;
    return record;
  };
  const inRange = (start: number) => (options.from === undefined || start >= options.from) && (options.to === undefined || start < options.to);

  let measures: WindowMeasure[];
  let recomputed: number;
  let read: number;
  if (!options.sinceLast) {
    const aggregator = createAggregator({ placeholder: options.placeholder, from: options.from, to: options.to });
    // stream-clean's values are counted from their bytes; any other value through decode.
    const fields = createStagingFields();
    const result = await readTopicSnapshot(kafka, options.stagingTopic, (_partition, messages) => {
      for (const message of messages) {
        const value = message.value;
        if (value && readStagingFields(value, windowCache, fields)) {
          aggregator.addFields(value, fields);
          continue;
        }
        const record = decode(message);
        if (record) aggregator.add(record);
      }
    });
    read = result.messages;
    measures = aggregator.measures();
    recomputed = measures.length;
    writeOutput(options.output, measures);
  } else {
    const since = await sinceLast(kafka, ledger!, options, decode, inRange);
    ({ measures, recomputed, read } = since);
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

/**
 * --since-last, holding the job's lease for the staging topic (one run at a time; a second waits,
 * then refuses with exit 4). Each batch is applied conditionally on the offset this run read its
 * partition from, so even a run that lost its lease cannot count a message twice. The CSV is
 * computed from the state as committed and written in the transaction that checks the lease is
 * still this run's: a stale run never overwrites a newer CSV.
 */
async function sinceLast(
  kafka: Kafka,
  ledger: Ledger,
  options: MeasureOptions,
  decode: (message: KafkaMessage) => StagingRecord | undefined,
  inRange: (start: number) => boolean,
): Promise<{ measures: WindowMeasure[]; recomputed: number; read: number }> {
  const topic = options.stagingTopic;
  const describe = `batch-measure --since-last of ${topic}`;
  const lease = await ledger.acquireLease(`batch-measure --since-last ${topic}`, {
    waitMs: options.lease?.waitMs ?? 60_000,
    staleAfterMs: options.lease?.staleAfterMs ?? 60_000,
    describe,
    onWait: (holder) => log.info(`${describe} is running in pid ${holder.pid} on ${holder.host}: waiting for it (up to ledger.job_wait)`),
    onTakeOver: (reason) => log.warn(`${describe}: taking over the lease of a run that stopped without giving it up (${reason})`),
  });
  try {
    // Where each partition stood when this run read it: the compare of every batch's compare-and-set.
    const position = ledger.measureOffsets(topic);
    let stale: StaleStateError | undefined;
    const result = await readTopicSnapshot(
      kafka,
      topic,
      (partition, messages) => {
        // Thrown inside the consumer, the error would have kafkajs fetch the batch again; it is raised once the read is over.
        if (stale) return;
        const delta = deltaOf(messages, partition, position.get(partition), decode, options.placeholder);
        try {
          ledger.applyMeasureDelta(topic, delta);
        } catch (error) {
          if (!(error instanceof StaleStateError)) throw error;
          stale = error;
          return;
        }
        position.set(partition, delta.nextOffset);
      },
      { from: new Map(position) },
    );
    if (stale) throw stale;
    const written = lease.whileHeld(() => {
      const toMeasure = (stored: ReturnType<Ledger["measureWindows"]>) =>
        stored.map((w) => measureOf(w.windowStart, w.windowEnd, w.uniqueUsers, w.countries)).filter((m) => inRange(m.windowStart));
      const existing = options.output !== "-" && existsSync(options.output) ? measuresFromCsv(readFileSync(options.output, "utf8")) : undefined;
      let measures: WindowMeasure[];
      let updated: WindowMeasure[];
      if (existing) {
        // Every window whose state changed since a CSV last showed it: this run's, and any a run that stopped before its CSV left.
        updated = toMeasure(ledger.measureWindows(topic, ledger.unwrittenWindows(topic)));
        const byStart = new Map(existing.filter((m) => inRange(m.windowStart)).map((m) => [m.windowStart, m]));
        for (const measure of updated) byStart.set(measure.windowStart, measure);
        measures = [...byStart.values()].sort((a, b) => a.windowStart - b.windowStart);
      } else {
        // No CSV to merge into (first run, or it was removed): write every window the state holds.
        measures = updated = toMeasure(ledger.measureWindows(topic));
      }
      writeOutput(options.output, measures);
      if (options.output !== "-") ledger.markWindowsWritten(topic, updated.map((m) => m.windowStart));
      return { measures, recomputed: updated.length };
    });
    return { ...written, read: result.messages };
  } finally {
    lease.release();
  }
}

function deltaOf(
  messages: KafkaMessage[],
  partition: number,
  readFrom: bigint | undefined,
  decode: (m: KafkaMessage) => StagingRecord | undefined,
  placeholder: string,
): MeasureDelta {
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
  return { windows, users, countries, partition, readFrom, nextOffset: BigInt(messages.at(-1)!.offset) + 1n };
}

/** The CSV appears whole and durably (storage/durable.ts): a reader never sees half a file. */
function writeOutput(output: string, measures: WindowMeasure[]): void {
  if (output === "-") return;
  writeFileDurably(output, formatCsv(measures));
}
