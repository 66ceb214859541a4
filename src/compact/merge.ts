/**
 * Reads the files of one merge group and encodes their rows as one Parquet file: every column,
 * kept exactly (int64 as bigint, timestamps in ms, nulls), rows sorted by source offset (one
 * partition per group). A file whose columns are not kstream's is refused, never rewritten.
 */
import { parquetMetadata, parquetRead, parquetSchema } from "hyparquet";
import { IoError } from "../errors.ts";
import { COLUMN_NAMES, encodeParquet, PARQUET_DECOMPRESSORS, type ParquetColumns, type ParquetCompression } from "../storage/parquet-format.ts";
import type { CompactStore, MergeGroup } from "./types.ts";

export interface MergedBytes {
  readonly bytes: Uint8Array;
  readonly rows: number;
}

export async function mergeGroup(store: CompactStore, group: MergeGroup, compression: ParquetCompression): Promise<MergedBytes> {
  const rows: unknown[][] = [];
  for (const original of group.originals) {
    const bytes = await store.read(group.folder, original.name);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const names = parquetSchema(parquetMetadata(buffer)).children.map((child) => child.element.name);
    if (names.join(",") !== COLUMN_NAMES.join(",")) {
      throw new IoError(`${store.location}/${group.folder}/${original.name} has columns ${names.join(", ")}, not kstream's: it is left as it is`, {
        context: { file: original.name },
      });
    }
    await parquetRead({ file: buffer, compressors: PARQUET_DECOMPRESSORS, onComplete: (fileRows: unknown[][]) => rows.push(...fileRows) });
  }
  const offsetAt = COLUMN_NAMES.indexOf("source_offset");
  rows.sort((a, b) => {
    const x = BigInt(a[offsetAt] as bigint);
    const y = BigInt(b[offsetAt] as bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { bytes: encodeParquet(toColumns(rows), compression), rows: rows.length };
}

const asBigInt = (value: unknown): bigint => (value instanceof Date ? BigInt(value.getTime()) : BigInt(value as bigint | number));

function toColumns(rows: unknown[][]): ParquetColumns {
  const at = (name: keyof ParquetColumns) => COLUMN_NAMES.indexOf(name);
  const strings = (name: keyof ParquetColumns) => rows.map((row) => row[at(name)] as string);
  const nullable = (name: keyof ParquetColumns) => rows.map((row) => (row[at(name)] ?? null) as string | null);
  const int64 = (name: keyof ParquetColumns) => rows.map((row) => asBigInt(row[at(name)]));
  return {
    id: int64("id"),
    first_name: strings("first_name"),
    last_name: nullable("last_name"),
    email: strings("email"),
    gender: nullable("gender"),
    ip_addr: strings("ip_addr"),
    date: nullable("date"),
    country: nullable("country"),
    timestamp: int64("timestamp"),
    source_partition: Int32Array.from(rows, (row) => Number(row[at("source_partition")])),
    source_offset: int64("source_offset"),
  };
}
