/**
 * The port a PartitionCycle cleans through: chunks of records in, one outcome per record back (a
 * staging message or a dead-letter verdict), and the rows of the open cycle kept on the other side
 * until the cycle flushes them into Parquet. Two implementations: createLocalCleaner (this
 * thread, over a PartitionSink; the tests' and `clean.workers = 0`'s) and clean-pool.ts's (a Bun
 * Worker cleans and encodes, the main thread only sends and puts the files).
 *
 * A cleaned chunk's rows wait aside until the cycle accepts them: the cycle accepts exactly the
 * rows whose records it staged, so a cycle that ends mid-chunk (file_max_rows) or stops on an
 * error holds the same rows as if each record had been cleaned only when staged.
 */
import { cleanMessage } from "../clean/record.ts";
import { stagingMessage } from "../clean/staging.ts";
import type { CleanOutcome, CleanRow, CleanRules, DeadLetterVerdict } from "../clean/types.ts";
import { partitionForKey } from "../kafka/partitioner.ts";
import type { WrittenFile } from "./parquet-writer.ts";
import type { PartitionSink } from "./partition-sink.ts";
import type { Outcome, RecordIn } from "./worker-protocol.ts";

export interface CleanedChunk {
  readonly count: number;
  /** The outcome of the chunk's next record, in record order. */
  next(): Outcome;
}

/** A chunk handed over for cleaning: its id (for accept and release) and its outcomes to come. */
export interface PendingChunk {
  readonly id: number;
  readonly cleaned: Promise<CleanedChunk>;
}

export interface PartitionCleaner {
  /** Rows accepted into the open cycle. */
  readonly rowCount: number;
  clean(records: readonly RecordIn[]): PendingChunk;
  /** The chunk's next `rows` rows join the open cycle. */
  accept(chunk: number, rows: number): void;
  /** Drops the chunk's rows not accepted; the chunk is done. */
  release(chunk: number): void;
  /** Writes the open cycle's rows (one file per ingest date) and empties it. */
  flush(): Promise<WrittenFile[]>;
  discard(): void;
  /** Deletes files this cleaner wrote (a cycle refused for good), by their `path`; a missing file is no error. */
  remove(paths: readonly string[]): Promise<void>;
  /** Frees what the other side holds for this partition. */
  close(): void;
}

/** Turns cleaned rows into staging messages with their partition: one hash per run of the same window key. */
export function createStager(rules: CleanRules, stagingPartitions: number) {
  let lastKey: string | undefined;
  let lastPartition = 0;
  return (row: CleanRow): { key: string; value: string; partition: number } => {
    const { key, value } = stagingMessage(row, rules.windowMs);
    if (key !== lastKey) {
      lastKey = key;
      lastPartition = partitionForKey(key, stagingPartitions);
    }
    return { key, value, partition: lastPartition };
  };
}

/** Cleans one record (its offset is the row's source_offset). */
function cleanRecord(record: RecordIn, partition: number, rules: CleanRules): CleanOutcome {
  return cleanMessage(record.value, { timestamp: record.timestamp, partition, offset: record.offset }, rules);
}

/** Where a chunk's outcomes go, in record order: worker-protocol's OutcomeWriter, or objects in this thread. */
export interface OutcomeSink {
  row(key: string, partition: number, value: string): void;
  dead(verdict: DeadLetterVerdict): void;
}

/**
 * Cleans the `count` records of one chunk in order (`recordAt(index)`), each row staged into
 * `outcomes` with its staging message, each dead letter with its verdict; returns the rows, which
 * wait for the cycle to accept them. The one cleaning loop of this thread's cleaner and the worker's.
 */
export function cleanChunk(count: number, recordAt: (index: number) => RecordIn, partition: number, rules: CleanRules, stage: ReturnType<typeof createStager>, outcomes: OutcomeSink): CleanRow[] {
  const rows: CleanRow[] = [];
  for (let index = 0; index < count; index++) {
    const outcome = cleanRecord(recordAt(index), partition, rules);
    if (outcome.kind === "row") {
      rows.push(outcome.row);
      const staged = stage(outcome.row);
      outcomes.row(staged.key, staged.partition, staged.value);
    } else {
      outcomes.dead(outcome.verdict);
    }
  }
  return rows;
}

export interface LocalCleanerOptions {
  readonly sink: PartitionSink;
  readonly partition: number;
  readonly rules: CleanRules;
  readonly stagingPartitions: number;
}

export function createLocalCleaner(options: LocalCleanerOptions): PartitionCleaner {
  const { sink, partition, rules } = options;
  const stage = createStager(rules, options.stagingPartitions);
  const waiting = new Map<number, { rows: CleanRow[]; next: number }>();
  let nextId = 0;
  return {
    get rowCount() {
      return sink.rowCount;
    },
    clean(records) {
      const id = nextId++;
      const outcomes: Outcome[] = [];
      const rows = cleanChunk(records.length, (index) => records[index]!, partition, rules, stage, {
        row: (key, stagingPartition, value) => outcomes.push({ kind: "row", key, value, partition: stagingPartition, size: value.length }),
        dead: (verdict) => outcomes.push({ kind: "dead", verdict }),
      });
      waiting.set(id, { rows, next: 0 });
      let read = 0;
      return { id, cleaned: Promise.resolve({ count: outcomes.length, next: () => outcomes[read++]! }) };
    },
    accept(chunk, count) {
      const entry = waiting.get(chunk);
      if (!entry) return;
      for (let index = 0; index < count; index++) sink.append(entry.rows[entry.next++]!);
    },
    release: (chunk) => void waiting.delete(chunk),
    flush: () => sink.flush(),
    discard() {
      sink.discard();
    },
    remove: (paths) => sink.remove(paths),
    close() {
      waiting.clear();
    },
  };
}
