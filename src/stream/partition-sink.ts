/**
 * The rows of one input partition's open cycle, grouped by ingest date, and the flush that turns
 * them into one Parquet file per date, each put whole into the ParquetStore (a folder or a
 * bucket). The cycle's files never straddle a commit point: the worker flushes, then commits,
 * then starts the next cycle.
 */
import type { CleanRow } from "../clean/types.ts";
import { fileNameFor, ingestDateFolder } from "../storage/names.ts";
import type { ParquetStore } from "../storage/store.ts";
import { encodeParquet, type ParquetCompression } from "../storage/parquet-format.ts";
import type { WrittenFile } from "./parquet-writer.ts";
import { createRowBuffer, type RowBuffer } from "./row-buffer.ts";

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

export function createPartitionSink(options: PartitionSinkOptions): PartitionSink {
  let buffers = new Map<string, RowBuffer>();
  let rowCount = 0;
  let lastDay = Number.NaN;
  let lastFolder = "";
  /** Key of each file written, by the `path` the cycle knows it by. */
  const keys = new Map<string, string>();

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
    async flush() {
      const { store } = options;
      const written: WrittenFile[] = [];
      try {
        for (const [folder, buffer] of buffers) {
          const key = `${folder}/${fileNameFor(options.topic, options.partition, buffer.minOffset, buffer.maxOffset)}`;
          const bytes = encodeParquet(buffer.columns(), options.compression);
          await store.put(key, bytes);
          const file = { path: store.describe(key), key, rows: buffer.count, bytes: bytes.length };
          keys.set(file.path, key);
          written.push(file);
        }
      } catch (error) {
        // The cycle never learns of the files put before the failure: take them back now (best
        // effort; the next start's recovery removes them otherwise, as they are past the commit).
        await Promise.all(written.map((file) => store.delete(keys.get(file.path) ?? file.path).catch(() => undefined)));
        throw error;
      }
      buffers = new Map();
      rowCount = 0;
      return written;
    },
    discard() {
      buffers = new Map();
      rowCount = 0;
    },
    async remove(paths) {
      await Promise.all(paths.map((path) => options.store.delete(keys.get(path) ?? path)));
    },
  };
}
