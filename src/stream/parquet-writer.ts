/**
 * Encodes one Parquet file (columns and types as SPEC.md "Cleaning rules"); the sink puts the bytes
 * into its ParquetStore, whole or not at all. writeParquetAtomically writes one into a local folder
 * directly, through storage/durable.ts (hidden temporary name, fsync, rename, fsync of the folder).
 */
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { lz4CompressBlock } from "../compression/lz4.ts";
import { writeFileDurably } from "../storage/durable.ts";
import type { ParquetColumns } from "./row-buffer.ts";

export type ParquetCodec = "snappy" | "zstd" | "gzip" | "lz4_raw" | "uncompressed";

/** clean.compression and clean.compression_level (zstd 1-22, gzip 1-9; the others have none). */
export interface ParquetCompression {
  readonly codec: ParquetCodec;
  readonly level?: number;
}

const DEFAULT_LEVEL = { zstd: 3, gzip: 6 } as const;

/**
 * Page compressors by Parquet codec name. SNAPPY is hyparquet-writer's own; GZIP is the gzip
 * format (not zlib or raw deflate), as the Parquet spec requires; ZSTD is Bun's libzstd;
 * LZ4_RAW is one LZ4 block per page (Parquet's deprecated "LZ4" codec is not written).
 */
function compressorsFor(compression: ParquetCompression) {
  const zstdLevel = compression.codec === "zstd" ? (compression.level ?? DEFAULT_LEVEL.zstd) : DEFAULT_LEVEL.zstd;
  const gzipLevel = (compression.codec === "gzip" ? (compression.level ?? DEFAULT_LEVEL.gzip) : DEFAULT_LEVEL.gzip) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  return {
    ZSTD: (bytes: Uint8Array) => Bun.zstdCompressSync(bytes, { level: zstdLevel }),
    GZIP: (bytes: Uint8Array) => Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>, { level: gzipLevel }),
    LZ4_RAW: lz4CompressBlock,
  };
}

const CODEC_NAMES = { snappy: "SNAPPY", zstd: "ZSTD", gzip: "GZIP", lz4_raw: "LZ4_RAW", uncompressed: "UNCOMPRESSED" } as const;

const STRING = { type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } } as const;
const required = { repetition_type: "REQUIRED" } as const;
const optional = { repetition_type: "OPTIONAL" } as const;

/** The schema every kstream Parquet file has, in SPEC order. */
const SCHEMA = [
  { name: "root", num_children: 11 },
  { name: "id", type: "INT64", ...required },
  { name: "first_name", ...STRING, ...required },
  { name: "last_name", ...STRING, ...optional },
  { name: "email", ...STRING, ...required },
  { name: "gender", ...STRING, ...optional },
  { name: "ip_addr", ...STRING, ...required },
  { name: "date", ...STRING, ...optional },
  { name: "country", ...STRING, ...optional },
  {
    name: "timestamp",
    type: "INT64",
    converted_type: "TIMESTAMP_MILLIS",
    logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
    ...required,
  },
  { name: "source_partition", type: "INT32", ...required },
  { name: "source_offset", type: "INT64", ...required },
];

export interface WrittenFile {
  /** Where a user finds it: the file's path, or its s3:// URL. */
  readonly path: string;
  /** Its key in the store ("ingest_date=…/<name>"), when it was put through one. */
  readonly key?: string;
  readonly rows: number;
  readonly bytes: number;
}

export function encodeParquet(columns: ParquetColumns, compression: ParquetCompression): Uint8Array {
  // Column order is SCHEMA's, not the object's.
  const columnData = SCHEMA.slice(1).map(({ name }) => ({ name, data: columns[name as keyof ParquetColumns] }));
  const buffer = parquetWriteBuffer({
    columnData,
    schema: SCHEMA as never,
    codec: CODEC_NAMES[compression.codec],
    compressors: compressorsFor(compression),
    rowGroupSize: 100_000,
    createdBy: "kstream",
  });
  return new Uint8Array(buffer);
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
