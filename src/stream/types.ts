/**
 * The shapes the stream-clean job shares between its group loop (clean-stream.ts and the modules
 * it is split into) and its partition cycles (partition-cycle.ts): settings, counters, and what a
 * process's cycles have in common. Types only.
 */
import type { CleanRules, DeadLetterReason } from "../clean/types.ts";
import type { KafkaCodecName } from "../kafka/codecs.ts";
import type { TopicLayout } from "../kafka/topics.ts";
import type { ParquetStore } from "../storage/store.ts";
import type { PartitionCleaner } from "./cleaner.ts";
import type { ParquetCompression } from "./parquet-writer.ts";

export interface StreamSettings {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly stagingTopic: string;
  readonly deadLetterTopic: string;
  /** Where the Parquet files go (clean.parquet_dir: a folder or an s3:// bucket). */
  readonly store: ParquetStore;
  /** Parquet page compression (clean.compression, clean.compression_level). */
  readonly compression: ParquetCompression;
  /** Compression of the batches sent to the staging and dead-letter topics (clean.send_compression). */
  readonly sendCompression: KafkaCodecName;
  readonly fileMaxRows: number;
  readonly maxBufferedRows: number;
  /** Clean workers (clean.workers): threads that clean and encode Parquet; 0 keeps it all in the main thread. */
  readonly workers: number;
  readonly fileMaxAgeMs: number;
  readonly sessionTimeoutMs: number;
  /** Partitions and replication of the staging and dead-letter topics when stream-clean creates them. */
  readonly topicLayout: TopicLayout;
  readonly rules: CleanRules;
  readonly retry: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** kafka.retry_limit: how long a retriable failure may last before the run gives up (exit 1). */
  readonly retryLimitMs: number;
}

/** What a partition cycle needs of the settings. */
export type CycleSettings = Pick<StreamSettings, "groupId" | "inputTopic" | "stagingTopic" | "deadLetterTopic" | "fileMaxRows" | "fileMaxAgeMs" | "rules">;

/**
 * What one stream-clean process did. A record read again (its partition restarted or moved, so
 * an open cycle was dropped) counts in `read_again` only: `read`, `cleaned` and `dead_lettered`
 * count each input record once.
 */
export interface StreamCounters {
  read: number;
  read_again: number;
  cleaned: number;
  dead_lettered: number;
  files: number;
  commits: number;
}

/**
 * Why a cycle that opened a transaction ended without committing it: `dropped` (its open cycle
 * was given up: a rebalance, a partition restart, a run that failed; the transaction is aborted),
 * `refused` (its commit was refused for good: fenced, a full disk; aborted, its files removed),
 * `in_doubt` (its commit failed retriably, outcome unknown: the partition's next producer
 * completes or aborts it, and recovery keeps or removes the files to match).
 */
export type CycleAbortReason = "dropped" | "refused" | "in_doubt";

/**
 * What the cycles report beyond the run's counters, for stream-clean's own metrics
 * (stream-metrics.ts). Called synchronously at the step it describes; never throws.
 */
export interface CycleEvents {
  /** A record read for the first time became a dead letter. */
  deadLettered(reason: DeadLetterReason): void;
  /** A cycle committed: how long its end took (sends awaited, Parquet written, offsets and commit), and what it wrote. */
  committed(seconds: number, written: { readonly files: number; readonly bytes: number }): void;
  aborted(reason: CycleAbortReason): void;
}

/** Partition counts of the output topics: kstream partitions staging messages and dead letters itself. */
export interface OutputPartitions {
  readonly staging: number;
  readonly deadLetter: number;
}

/** What the partition cycles of one process share. */
export interface WorkerContext {
  /** Read only after the producer is initialised: see startPartitionWorker. */
  readonly readCommittedOffset: () => Promise<bigint>;
  readonly counters: StreamCounters;
  /** Per input partition, the offset after the last record any cycle of this process read: below it, a record is read again. */
  readonly readUpTo: Map<number, bigint>;
  /**
   * Messages get their partition here (murmur2 of the key, as kafkajs would), so kafkajs groups
   * them in one pass and sendCompletely can tell which partitions were acknowledged.
   */
  readonly partitionCounts: OutputPartitions;
  /** What the cycles report for the process's own metrics (default: ignored). */
  readonly events?: CycleEvents;
  /** The cleaner of a partition's cycle: in this thread or in a clean worker. */
  readonly cleanerFor: (partition: number) => PartitionCleaner;
}
