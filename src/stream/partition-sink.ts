/**
 * The rows of one input partition's open cycle, grouped by ingest date, and the flush that turns
 * them into one Parquet file per date. The cycle's files never straddle a commit point: the worker
 * flushes, then commits, then starts the next cycle.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { CleanRow } from "../clean/types.ts";
import { fileNameFor, ingestDateFolder } from "../storage/names.ts";
import { type ParquetCompression, type WrittenFile, writeParquetAtomically } from "./parquet-writer.ts";
import { createRowBuffer, type RowBuffer } from "./row-buffer.ts";

export interface PartitionSink {
  readonly rowCount: number;
  append(row: CleanRow): void;
  /** Writes the buffered rows (one file per ingest date) and empties the buffers. */
  flush(): Promise<WrittenFile[]>;
  discard(): void;
  /** Deletes files this sink wrote (a cycle refused for good); a missing file is no error. */
  remove(paths: readonly string[]): Promise<void>;
}

export interface PartitionSinkOptions {
  readonly parquetDir: string;
  readonly topic: string;
  readonly partition: number;
  readonly compression: ParquetCompression;
}

export function createPartitionSink(options: PartitionSinkOptions): PartitionSink {
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
    async flush() {
      const written: WrittenFile[] = [];
      for (const [folder, buffer] of buffers) {
        const name = fileNameFor(options.topic, options.partition, buffer.minOffset, buffer.maxOffset);
        written.push(writeParquetAtomically(join(options.parquetDir, folder), name, buffer.columns(), options.compression));
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
      await Promise.all(paths.map((path) => rm(path, { force: true })));
    },
  };
}
