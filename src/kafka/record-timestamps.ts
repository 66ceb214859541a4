/**
 * Reads the timestamp of the first record at (or after) given offsets: a short fetch through a
 * throw-away consumer group (throwaway-consumer.ts). `kstream metrics` uses
 * it for lag in seconds (now minus the timestamp of the oldest unconsumed record), measured from
 * real records rather than interpolated from offsets.
 */
import type { Kafka } from "kafkajs";
import { log } from "../ui/log.ts";
import { readThroughThrowawayGroup } from "./throwaway-consumer.ts";

export interface OffsetPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Returns "topic/partition" -> record timestamp (ms). Partitions whose record could not be read
 * within `timeoutMs` (slow group join, nothing there any more) are simply absent: the caller
 * reports their age as unknown rather than waiting longer.
 */
export async function readRecordTimestamps(kafka: Kafka, positions: readonly OffsetPosition[], timeoutMs: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (positions.length === 0) return found;
  const wanted = new Map(positions.map((p) => [`${p.topic}/${p.partition}`, p.offset]));
  try {
    await readThroughThrowawayGroup(kafka, {
      groupPrefix: "kstream-metrics",
      consumer: { maxWaitTimeInMs: 100, maxBytesPerPartition: 64 * 1024, maxBytes: 1024 * 1024, retry: { retries: 0 } },
      topics: positions.map((p) => p.topic),
      fromBeginning: false,
      seek: positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset) })),
      timeoutMs,
      eachBatch: async ({ batch }, stop) => {
        const key = `${batch.topic}/${batch.partition}`;
        const offset = wanted.get(key);
        if (offset === undefined || found.has(key)) return;
        const record = batch.messages.find((message) => Number(message.offset) >= offset);
        if (record) found.set(key, Number(record.timestamp));
        if (found.size === wanted.size) stop();
      },
      onCrash: (error) => {
        log.debug(`record timestamps: consumer stopped: ${error.message}`);
        return true;
      },
    });
  } catch (error) {
    // Lag in seconds is extra information: the lag in messages still stands without it.
    log.warn(`could not read record timestamps for lag in seconds: ${(error as Error).message}`);
  }
  return found;
}
