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
import { createParquetEncoder, type ParquetCompression, type ParquetFileEncoder } from "../storage/parquet-format.ts";
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

/**
 * The open cycle's rows by ingest date. Pure: `encode` returns the files' bytes and empties it.
 * Each date's rows are encoded a row group at a time, as soon as `groupRows` of them are in: a
 * cycle's memory is its last group's rows plus the encoded bytes, not every row object, and a
 * clean worker encodes while the main thread sends instead of all at the cycle's end, when the
 * cycle is waiting to commit.
 */
export interface DatedRows {
  readonly rowCount: number;
  append(row: CleanRow): void;
  encode(): EncodedFile[];
  clear(): void;
}

/** Rows per row group of a cycle's file: its last group is what is left at the end of the cycle. */
export const CYCLE_ROW_GROUP_ROWS = 20_000;

/** One date's file of the open cycle: the rows of its row group being filled, and the groups encoded before. */
interface OpenFile {
  buffer: RowBuffer;
  encoder: ParquetFileEncoder | undefined;
  minOffset: bigint;
  maxOffset: bigint;
}

export function createDatedRows(topic: string, partition: number, compression: ParquetCompression, groupRows = CYCLE_ROW_GROUP_ROWS): DatedRows {
  let files = new Map<string, OpenFile>();
  let rowCount = 0;
  let lastDay = Number.NaN;
  let lastFile: OpenFile | undefined;
  const sealGroup = (file: OpenFile) => {
    const { buffer } = file;
    if (buffer.count === 0) return;
    file.encoder ??= createParquetEncoder(compression);
    file.encoder.writeGroup(buffer.columns());
    if (file.minOffset < 0n || buffer.minOffset < file.minOffset) file.minOffset = buffer.minOffset;
    if (buffer.maxOffset > file.maxOffset) file.maxOffset = buffer.maxOffset;
    file.buffer = createRowBuffer();
  };
  const clear = () => {
    files = new Map();
    rowCount = 0;
    lastFile = undefined;
    lastDay = Number.NaN;
  };
  return {
    get rowCount() {
      return rowCount;
    },
    append(row) {
      const day = Math.floor(row.timestamp / 86_400_000);
      if (day !== lastDay || !lastFile) {
        lastDay = day;
        const folder = ingestDateFolder(row.timestamp);
        lastFile = files.get(folder);
        if (!lastFile) {
          lastFile = { buffer: createRowBuffer(), encoder: undefined, minOffset: -1n, maxOffset: -1n };
          files.set(folder, lastFile);
        }
      }
      lastFile.buffer.append(row);
      rowCount++;
      if (lastFile.buffer.count >= groupRows) sealGroup(lastFile);
    },
    encode() {
      const encoded: EncodedFile[] = [];
      for (const [folder, file] of files) {
        sealGroup(file);
        // Every file has a row (it is made by append), so sealGroup has made its encoder.
        const encoder = file.encoder!;
        const key = `${folder}/${fileNameFor(topic, partition, file.minOffset, file.maxOffset)}`;
        encoded.push({ key, rows: encoder.rows, bytes: encoder.finish() });
      }
      clear();
      return encoded;
    },
    clear,
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
  const rows = createDatedRows(options.topic, options.partition, options.compression);
  /** Key of each file written, by the `path` the cycle knows it by. */
  const keys = new Map<string, string>();
  return {
    get rowCount() {
      return rows.rowCount;
    },
    append: (row) => rows.append(row),
    async flush() {
      // A failed flush ends the cycle (broken or failed), so the rows need not outlive the encoding.
      return putFiles(options.store, rows.encode(), keys);
    },
    discard: () => rows.clear(),
    remove: (paths) => removeFiles(options.store, paths, keys),
  };
}
