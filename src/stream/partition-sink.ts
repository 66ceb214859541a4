/**
 * The rows of one input partition's open cycle, grouped by ingest date, and the flush that turns
 * them into one Parquet file per date, each put whole into the ParquetStore (a folder or a
 * bucket). The cycle's files never straddle a commit point: the cycle flushes, then commits,
 * then starts the next cycle.
 *
 * The two halves live apart so that a clean worker (clean-worker.ts) can hold the rows and encode
 * them (createDatedRows, pure) while the main thread puts the bytes into the store (putFiles).
 */
import type { CleanRow } from "../clean/types.ts";
import { fileNameFor, ingestDateFolder } from "../storage/names.ts";
import type { ParquetStore } from "../storage/store.ts";
import { encodeParquet, type ParquetCompression } from "../storage/parquet-format.ts";
import type { WrittenFile } from "./parquet-writer.ts";
import { createRowBuffer, type RowBuffer } from "./row-buffer.ts";
import type { EncodedFile } from "./worker-protocol.ts";

export interface PartitionSink {
  readonly rowCount: number;
  append(row: CleanRow): void;
  /** Writes the buffered rows (one file per ingest date) and empties the buffers. */
  flush(): Promise<WrittenFile[]>;
  discard(): void;
  /** Deletes files this sink wrote (a cycle refused for good), by their `path`; a missing file is no error. */
  remove(paths: readonly string[]): Promise<void>;
}

export interface PartitionSinkOptions {
  readonly store: ParquetStore;
  readonly topic: string;
  readonly partition: number;
  readonly compression: ParquetCompression;
}

/** The open cycle's rows by ingest date. Pure: `encode` returns the files' bytes and empties it. */
export interface DatedRows {
  readonly rowCount: number;
  append(row: CleanRow): void;
  encode(compression: ParquetCompression): EncodedFile[];
  clear(): void;
}

export function createDatedRows(topic: string, partition: number): DatedRows {
  let buffers = new Map<string, RowBuffer>();
  let rowCount = 0;
  let lastDay = Number.NaN;
  let lastFolder = "";
  return {
    get rowCount() {
      return rowCount;
    },
    append(row) {
      const day = Math.floor(row.timestamp / 86_400_000);
      if (day !== lastDay) {
        lastDay = day;
        lastFolder = ingestDateFolder(row.timestamp);
      }
      let buffer = buffers.get(lastFolder);
      if (!buffer) {
        buffer = createRowBuffer();
        buffers.set(lastFolder, buffer);
      }
      buffer.append(row);
      rowCount++;
    },
    encode(compression) {
      const files: EncodedFile[] = [];
      for (const [folder, buffer] of buffers) {
        const key = `${folder}/${fileNameFor(topic, partition, buffer.minOffset, buffer.maxOffset)}`;
        files.push({ key, rows: buffer.count, bytes: encodeParquet(buffer.columns(), compression) });
      }
      buffers = new Map();
      rowCount = 0;
      return files;
    },
    clear() {
      buffers = new Map();
      rowCount = 0;
    },
  };
}

/**
 * Puts encoded files into the store, each whole, noting each file's key by its `path` in `keys`.
 * On a failure the files already put are taken back (best effort; the next start's recovery
 * removes them otherwise, as they are past the commit) and the error is thrown.
 */
export async function putFiles(store: ParquetStore, files: readonly EncodedFile[], keys: Map<string, string>): Promise<WrittenFile[]> {
  const written: WrittenFile[] = [];
  try {
    for (const { key, rows, bytes } of files) {
      await store.put(key, bytes);
      const file = { path: store.describe(key), key, rows, bytes: bytes.length };
      keys.set(file.path, key);
      written.push(file);
    }
  } catch (error) {
    await Promise.all(written.map((file) => store.delete(keys.get(file.path) ?? file.path).catch(() => undefined)));
    throw error;
  }
  return written;
}

/** Deletes files put by putFiles, by their `path`; a missing file is no error. */
export async function removeFiles(store: ParquetStore, paths: readonly string[], keys: ReadonlyMap<string, string>): Promise<void> {
  await Promise.all(paths.map((path) => store.delete(keys.get(path) ?? path)));
}

export function createPartitionSink(options: PartitionSinkOptions): PartitionSink {
  const rows = createDatedRows(options.topic, options.partition);
  /** Key of each file written, by the `path` the cycle knows it by. */
  const keys = new Map<string, string>();
  return {
    get rowCount() {
      return rows.rowCount;
    },
    append: (row) => rows.append(row),
    async flush() {
      // A failed flush ends the cycle (broken or failed), so the rows need not outlive the encoding.
      return putFiles(options.store, rows.encode(options.compression), keys);
    },
    discard: () => rows.clear(),
    remove: (paths) => removeFiles(options.store, paths, keys),
  };
}
