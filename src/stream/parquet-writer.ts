/**
 * Writes one Parquet file atomically through storage/durable.ts (hidden temporary name in the
 * target folder, fsync, rename, fsync of the folder). A reader (or recon) sees the whole file or none of it, and a crash leaves
 * at most a temporary file that recovery removes. Columns and types as SPEC.md "Cleaning rules".
 */
import { join } from "node:path";
import { writeFileDurably } from "../storage/durable.ts";
import { encodeParquet, type ParquetColumns, type ParquetCompression } from "../storage/parquet-format.ts";

export type { ParquetCodec, ParquetCompression } from "../storage/parquet-format.ts";

export interface WrittenFile {
  readonly path: string;
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
