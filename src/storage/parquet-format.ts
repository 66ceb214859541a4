/**
 * The one Parquet format of kstream's output, used by stream-clean (writing a cycle's rows) and
 * compact (rewriting small files as one): the schema in SPEC order, the page codecs, the encoder,
 * and the decompressors a reader needs for each codec kstream writes. Pure: bytes in, bytes out.
 */
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { installFastByteWriter } from "./byte-writer-patch.ts";
import { lz4CompressBlock, lz4DecompressBlock } from "../compression/lz4.ts";
import { snappyCompressPage } from "../compression/snappy-pages.ts";

/**
 * A file's rows column by column, in the types hyparquet-writer takes. The int64 columns are
 * arrays of bigint, not BigInt64Arrays: hyparquet-writer reads each int64 value four or five times
 * (its range check, the dictionary's sample, statistics, the plain encoding) and every read of a
 * BigInt64Array element makes a new bigint, where an array hands back the one it holds.
 */
export interface ParquetColumns {
  id: bigint[];
  first_name: string[];
  last_name: Array<string | null>;
  email: string[];
  gender: Array<string | null>;
  ip_addr: string[];
  date: Array<string | null>;
  country: Array<string | null>;
  timestamp: bigint[];
  source_partition: Int32Array;
  source_offset: bigint[];
}

export type ParquetCodec = "snappy" | "zstd" | "gzip" | "lz4_raw" | "uncompressed";

/** clean.compression and clean.compression_level (zstd 1-22, gzip 1-9; the others have none). */
export interface ParquetCompression {
  readonly codec: ParquetCodec;
  readonly level?: number;
}

const DEFAULT_LEVEL = { zstd: 3, gzip: 6 } as const;

/**
 * Page compressors by Parquet codec name. SNAPPY is hyparquet-writer's own algorithm written
 * without its per-byte ByteWriter (compression/snappy-pages.ts: the same bytes); GZIP is the gzip
 * format (not zlib or raw deflate), as the Parquet spec requires; ZSTD is Bun's libzstd;
 * LZ4_RAW is one LZ4 block per page (Parquet's deprecated "LZ4" codec is not written).
 */
function compressorsFor(compression: ParquetCompression) {
  const zstdLevel = compression.codec === "zstd" ? (compression.level ?? DEFAULT_LEVEL.zstd) : DEFAULT_LEVEL.zstd;
  const gzipLevel = (compression.codec === "gzip" ? (compression.level ?? DEFAULT_LEVEL.gzip) : DEFAULT_LEVEL.gzip) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  return {
    SNAPPY: snappyCompressPage,
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
export const SCHEMA = [
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

/**
 * Columns written without min/max statistics: the ids, names, addresses and emails come in no
 * order, so a file's range spans nearly all values and prunes nothing for a reader, and a file's
 * source offsets are already in its name (partition+first+last). Computing them was a fifth of
 * the Parquet encoding (every string compared; every int64 read out as a BigInt). timestamp,
 * source_partition and the few-valued strings (gender, date, country) keep theirs, for readers'
 * filter pushdown.
 */
const WITHOUT_STATISTICS: ReadonlySet<string> = new Set(["id", "first_name", "last_name", "email", "ip_addr", "source_offset"]);

/** Whether kstream writes min/max statistics for the column `name` (see WITHOUT_STATISTICS). */
export const hasStatistics = (name: string): boolean => !WITHOUT_STATISTICS.has(name);

/** hyparquet-writer's default page size: a column chunk is cut into pages of about this many bytes. */
const PAGE_SIZE = 1024 * 1024;

/**
 * True when every column of every row group of `columns` is estimated (as hyparquet-writer does:
 * 8 bytes an int64, 4 an int32 or a dictionary index, a text value's UTF-8 bytes, 0 a null) under
 * PAGE_SIZE, so each column chunk is one page whatever the page size: then page size 0 writes the
 * same bytes without hyparquet-writer's walk over every value (which reads each int64 out as a
 * BigInt). Summed over all rows, which bounds each row group's sum. A text column is measured in
 * UTF-8 bytes, not characters: hyparquet-writer cuts a plain column's pages by its encoded bytes,
 * which are up to three times its characters.
 */
function fitsOnePage(columns: ParquetColumns): boolean {
  if (columns.id.length * 8 >= PAGE_SIZE) return false;
  for (const name of STRING_COLUMNS) {
    const values = columns[name] as ReadonlyArray<string | null>;
    let length = 0;
    for (let index = 0; index < values.length; index++) length += values[index]?.length ?? 0;
    // Characters bound the bytes from below, three bytes a character from above: count exactly only in between.
    if (length >= PAGE_SIZE) return false;
    if (3 * length < PAGE_SIZE) continue;
    let bytes = 0;
    // Buffer.byteLength counts what TextEncoder writes (a lone surrogate as U+FFFD, three bytes).
    for (let index = 0; index < values.length && bytes < PAGE_SIZE; index++) bytes += Buffer.byteLength(values[index] ?? "", "utf8");
    if (bytes >= PAGE_SIZE) return false;
  }
  return true;
}

/** The schema's text columns (BYTE_ARRAY), read from SCHEMA so the two cannot drift apart. */
const STRING_COLUMNS = SCHEMA.filter((column) => "type" in column && column.type === "BYTE_ARRAY").map(({ name }) => name as keyof ParquetColumns);

/** Rows per row group of encodeParquet (compact's merged files; a cycle's groups are smaller: partition-sink.ts). */
const MAX_ROW_GROUP_ROWS = 100_000;

/**
 * One Parquet file written a row group at a time: each writeGroup encodes its rows as row groups
 * at once (so a cycle's rows need not wait in memory for its end), finish writes the footer.
 */
export interface ParquetFileEncoder {
  /** Rows written so far. */
  readonly rows: number;
  writeGroup(columns: ParquetColumns): void;
  /** The whole file; the encoder takes nothing more. */
  finish(): Uint8Array;
}

export function createParquetEncoder(compression: ParquetCompression): ParquetFileEncoder {
  installFastByteWriter();
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: SCHEMA as never,
    codec: CODEC_NAMES[compression.codec],
    compressors: compressorsFor(compression),
    createdBy: "kstream",
  });
  let rows = 0;
  return {
    get rows() {
      return rows;
    },
    writeGroup(columns) {
      // Column order is SCHEMA's, not the object's.
      const columnData = SCHEMA.slice(1).map(({ name }) => ({ name, data: columns[name as keyof ParquetColumns], statistics: hasStatistics(name) }));
      parquet.write({ columnData, rowGroupSize: MAX_ROW_GROUP_ROWS, pageSize: fitsOnePage(columns) ? 0 : PAGE_SIZE });
      rows += columns.id.length;
    },
    finish() {
      parquet.finish();
      return new Uint8Array(writer.getBuffer());
    },
  };
}

/** A whole file of `columns` (row groups of MAX_ROW_GROUP_ROWS). */
export function encodeParquet(columns: ParquetColumns, compression: ParquetCompression): Uint8Array {
  const encoder = createParquetEncoder(compression);
  encoder.writeGroup(columns);
  return encoder.finish();
}

/** The column names in SCHEMA order. */
export const COLUMN_NAMES = SCHEMA.slice(1).map(({ name }) => name) as Array<keyof ParquetColumns>;

/** Page decompressors for hyparquet (it reads SNAPPY itself): every codec kstream writes reads back. */
export const PARQUET_DECOMPRESSORS = {
  ZSTD: (input: Uint8Array) => new Uint8Array(Bun.zstdDecompressSync(input)),
  GZIP: (input: Uint8Array) => new Uint8Array(Bun.gunzipSync(input as Uint8Array<ArrayBuffer>)),
  LZ4_RAW: (input: Uint8Array, outputLength: number) => lz4DecompressBlock(input, outputLength),
};
