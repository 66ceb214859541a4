/**
 * What the produce job is told, built by its command from the config and the flags: the loop's
 * options, and the Kafka sink's settings. A dry run is given a dry-run sink instead of settings,
 * so no field here is optional for one kind of run and required for the other.
 */
import type { KafkaCodecName } from "../kafka/codecs.ts";
import type { TopicLayout } from "../kafka/topics.ts";

export interface ProduceOptions {
  /** The input file, or "-" for stdin. */
  readonly source: string;
  /** Publish at most this many records; undefined publishes them all. */
  readonly limit: number | undefined;
  /** The producer name the run is recorded under. */
  readonly producer: string;
  readonly topic: string;
  /** Messages per second; 0 sends as fast as the broker takes them. */
  readonly rate: number;
  /** Messages per request, at most. */
  readonly batchSize: number;
  /** Read and scan an input file on a second thread (scan-worker.ts). */
  readonly scanInWorker: boolean;
}

export interface KafkaSinkSettings {
  /** The brokers, comma-separated: named in errors. */
  readonly brokers: string;
  readonly producer: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  /** Every topic kstream uses: the missing ones are created before anything is published. */
  readonly topics: readonly string[];
  readonly layout: TopicLayout;
  readonly rate: number;
  readonly compression: KafkaCodecName;
  readonly heartbeatTimeoutMs: number;
  readonly retryLimitMs: number;
}
