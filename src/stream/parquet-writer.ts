/**
 * Encodes one Parquet file (columns and types as SPEC.md "Cleaning rules"); the sink puts the bytes
 * into its ParquetStore, whole or not at all. writeParquetAtomically writes one into a local folder
 * directly, through storage/durable.ts (hidden temporary name, fsync, rename, fsync of the folder).
 */
import { join } from "node:path";
import { writeFileDurably } from "../storage/durable.ts";
import { encodeParquet, type ParquetColumns, type ParquetCompression } from "../storage/parquet-format.ts";

export type { ParquetCodec, ParquetCompression } from "../storage/parquet-format.ts";

export interface WrittenFile {
  /** Where a user finds it: the file's path, or its s3:// URL. */
  readonly path: string;
  /** Its key in the store ("ingest_date=…/<name>"), when it was put through one. */
  readonly key?: string;
  readonly rows: number;
  readonly bytes: number;
}

export function writeParquetAtomically(
  dir: string,
  name: string,
  columns: ParquetColumns,
  compression: ParquetCompression,
): WrittenFile {
  const path = join(dir, name);
  const bytes = encodeParquet(columns, compression);
  writeFileDurably(path, bytes, "Parquet file");
  return { path, rows: columns.id.length, bytes: bytes.length };
}
