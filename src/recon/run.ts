/**
 * The recon job: for one producer run (or all of them), counts every acknowledged offset into
 * exactly one of landed / dead-lettered / pending / missing / duplicated and gives the verdict.
 */
import type { Kafka } from "kafkajs";
import type { ParquetStore } from "../storage/store.ts";
import { UsageError } from "../errors.ts";
import type { Ledger, RunRow } from "../ledger/ledger.ts";
import { settleRequestsInDoubt } from "./in-doubt.ts";
import { createOccurrenceTable, type OffsetRange, type ReconCounts, type Verdict, verdictOf } from "./arithmetic.ts";
import { type DeadLetterPosition, deadLetterPositions, forEachParquetLineage, topicPositions } from "./gather.ts";

export interface ReconTarget {
  readonly runId?: string | undefined;
  readonly producer?: string | undefined;
  readonly all?: boolean;
}

export interface ReconSettings {
  readonly inputTopic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  /** Where the Parquet files are (clean.parquet_dir: a folder or an s3:// bucket). */
  readonly store: ParquetStore;
  /** ledger.heartbeat_timeout: a running run silent this long is taken for dead. */
  readonly heartbeatTimeoutMs: number;
}

export interface RunReport extends ReconCounts {
  run: Pick<RunRow, "id" | "producer" | "source" | "topic" | "status" | "started_at" | "finished_at" | "sent" | "rejected">;
  /** The ledger's own count, which must equal the sum of its ranges. */
  ledger_sent: number;
  parquet_files_read: number;
  verdict: Verdict;
  seconds: number;
}

export function selectRuns(ledger: Ledger, target: ReconTarget): RunRow[] {
  if (target.all) return ledger.listRuns();
  if (target.runId) {
    const run = ledger.getRun(target.runId);
    if (!run) throw new UsageError(`no producer run ${target.runId} in the ledger ${ledger.path}`);
    return [run];
  }
  const run = ledger.latestRun(target.producer);
  if (!run) {
    throw new UsageError(
      target.producer ? `no producer run of "${target.producer}" in the ledger ${ledger.path}` : `the ledger ${ledger.path} holds no producer run yet`,
    );
  }
  return [run];
}

export async function reconcile(kafka: Kafka, ledger: Ledger, runs: RunRow[], settings: ReconSettings): Promise<RunReport[]> {
  let deadLetters: DeadLetterPosition[] | undefined;
  const reports: RunReport[] = [];
  await settleRequestsInDoubt(kafka, ledger, runs, settings.inputTopic, settings.heartbeatTimeoutMs);
  // A run still producing keeps adding acknowledgements: its count and its ranges are read together.
  const snapshot = ledger.readConsistently(() =>
    runs.map((selected) => ({ run: ledger.getRun(selected.id) ?? selected, ranges: ledger.offsetRanges(selected.id) })),
  );
  // The topic's positions are read after the ledger: every offset the snapshot holds was
  // acknowledged before, so it lies below the end offset read now (read first, a record
  // acknowledged in between looked "past the topic's end", i.e. missing). A committed offset read
  // now covers only rows already durable, and the Parquet files are read after it.
  const positions = await topicPositions(kafka, settings.groupId, settings.inputTopic);
  for (const { run, ranges: ledgerRanges } of snapshot) {
    const startedAt = performance.now();
    if (run.topic !== settings.inputTopic) {
      throw new UsageError(`run ${run.id} produced to ${run.topic}, but the config's input topic is ${settings.inputTopic}`);
    }
    const ranges: OffsetRange[] = ledgerRanges.map((r) => ({ partition: r.partition, first: r.first_offset, last: r.last_offset }));
    let table = createOccurrenceTable(ranges);
    const filesRead = await forEachParquetLineage(
      settings.store,
      settings.inputTopic,
      ranges,
      (partition, offset) => table.add("row", partition, offset),
      () => (table = createOccurrenceTable(ranges)),
    );
    deadLetters ??= await deadLetterPositions(kafka, settings.deadLetterTopic, settings.inputTopic);
    for (const { partition, offset } of deadLetters) table.add("dead", partition, offset);
    const counts = table.classify(positions.committed, positions.end);
    const { id, producer, source, topic, status, started_at, finished_at, sent, rejected } = run;
    const mismatchWithLedger = counts.published !== run.sent;
    reports.push({
      run: { id, producer, source, topic, status, started_at, finished_at, sent, rejected },
      ledger_sent: run.sent,
      ...counts,
      parquet_files_read: filesRead,
      verdict: mismatchWithLedger ? "mismatch" : verdictOf(counts),
      seconds: (performance.now() - startedAt) / 1000,
    });
  }
  return reports;
}
