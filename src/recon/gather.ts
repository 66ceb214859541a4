/**
 * What recon reads: the run's ranges from the ledger, the Parquet files whose names overlap them
 * (only their lineage columns: ranged reads of the footer and those column chunks, from a folder
 * or a bucket alike), the dead-letter topic, and the group's committed offsets and the topic's end
 * offsets through the admin API.
 */
import type { Kafka } from "kafkajs";
import { parquetRead } from "hyparquet";
import { readTopicSnapshot } from "../kafka/snapshot.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { committedOffsets, partitionBounds } from "../kafka/offsets.ts";
import { errnoOf } from "../errors.ts";
import { listVisibleStoredFiles, type StoredFile } from "../storage/listing.ts";
import { PARQUET_DECOMPRESSORS } from "../storage/parquet-format.ts";
import type { ParquetStore } from "../storage/store.ts";
import type { OffsetRange } from "./arithmetic.ts";

export interface DeadLetterPosition {
  readonly partition: number;
  readonly offset: number;
}

/** Source positions of every dead letter of `inputTopic`, read once for all runs. */
export async function deadLetterPositions(kafka: Kafka, deadLetterTopic: string, inputTopic: string): Promise<DeadLetterPosition[]> {
  const positions: DeadLetterPosition[] = [];
  const admin = kafka.admin();
  await admin.connect();
  const exists = (await admin.listTopics()).includes(deadLetterTopic);
  await admin.disconnect();
  if (!exists) return positions;
  await readTopicSnapshot(kafka, deadLetterTopic, (_partition, messages) => {
    for (const message of messages) {
      const headers = message.headers ?? {};
      if (String(headers["kstream-source-topic"] ?? "") !== inputTopic) continue;
      positions.push({ partition: Number(String(headers["kstream-source-partition"])), offset: Number(String(headers["kstream-source-offset"])) });
    }
  });
  return positions;
}

/**
/**
 * Files read at once from a bucket: each costs a few round trips (footer, two column chunks), so
 * a handful in flight keeps recon near local speed; a folder reads one after another.
 */
const READS_IN_FLIGHT = { local: 1, s3: 8 } as const;

/**
 * Calls `onRow` for the lineage of every row in files whose name range overlaps the run's ranges,
 * over the visible data (a merge's replaced originals left out). A file listed but gone when opened
 * was replaced by compact meanwhile: `onRestart` drops what was counted and the pass starts over
 * from a fresh listing, so each row is counted from one consistent set of files.
 */
export async function forEachParquetLineage(
  store: ParquetStore,
  inputTopic: string,
  ranges: readonly OffsetRange[],
  onRow: (partition: number, offset: number) => void,
  onRestart: () => void,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lineagePass(store, inputTopic, ranges, onRow);
    } catch (error) {
      if (errnoOf(error) !== "ENOENT" || attempt >= 5) throw error;
      onRestart();
    }
  }
}

async function lineagePass(store: ParquetStore, inputTopic: string, ranges: readonly OffsetRange[], onRow: (partition: number, offset: number) => void): Promise<number> {
  const wanted = (await listVisibleStoredFiles(store)).filter(
    (file) =>
      file.topic === inputTopic &&
      ranges.some((r) => r.partition === file.partition && BigInt(r.first) <= file.lastOffset && BigInt(r.last) >= file.firstOffset),
  );
  const readOne = async (file: StoredFile) =>
    parquetRead({
      file: await store.open(file),
      columns: ["source_partition", "source_offset"],
      compressors: PARQUET_DECOMPRESSORS,
      onComplete: (rows: unknown[][]) => {
        for (const row of rows) onRow(Number(row[0]), Number(row[1]));
      },
    });
  let next = 0;
  const reader = async () => {
    while (next < wanted.length) await readOne(wanted[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT[store.kind], wanted.length) }, reader));
  return wanted.length;
}

export interface TopicPositions {
  readonly low: Map<number, number>;
  readonly committed: Map<number, number>;
  /** Last stable offsets (see kafka/offsets.ts). */
  readonly end: Map<number, number>;
}

export async function topicPositions(kafka: Kafka, groupId: string, topic: string): Promise<TopicPositions> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const bounds = await partitionBounds(admin, topic);
    const committed = await committedOffsets(admin, groupId, topic, bounds);
    const numbers = (pick: (partition: number) => bigint) => new Map([...bounds.keys()].map((partition) => [partition, Number(pick(partition))]));
    return { low: numbers((p) => bounds.get(p)!.low), committed: numbers((p) => committed.get(p)!), end: numbers((p) => bounds.get(p)!.end) };
  } catch (error) {
    throw toKafkaError(error, "cannot read topic and group offsets", { topic, group: groupId });
  } finally {
    await admin.disconnect();
  }
}
