/**
 * Cleaned rows of one (partition, ingest date) kept column by column until their row group is
 * encoded: one array per column instead of one object per row, which is what the Parquet writer
 * wants anyway. The int64 columns hold each value's one bigint (parquet-format.ts says why not a
 * BigInt64Array); a row group is 20,000 rows (partition-sink.ts), so they stay small.
 */
import type { CleanRow } from "../clean/types.ts";
import type { ParquetColumns } from "../storage/parquet-format.ts";

export type { ParquetColumns };

export interface RowBuffer {
  readonly count: number;
  readonly minOffset: bigint;
  readonly maxOffset: bigint;
  append(row: CleanRow): void;
  /** The columns of the rows appended, the buffer's own arrays (no copy): append nothing after. */
  columns(): ParquetColumns;
}

export function createRowBuffer(): RowBuffer {
  const ids: bigint[] = [];
  const timestamps: bigint[] = [];
  const offsets: bigint[] = [];
  const strings = {
    first_name: [] as string[],
    last_name: [] as Array<string | null>,
    email: [] as string[],
    gender: [] as Array<string | null>,
    ip_addr: [] as string[],
    date: [] as Array<string | null>,
    country: [] as Array<string | null>,
  };
  let count = 0;
  let partition = 0;
  let minOffset = -1n;
  let maxOffset = -1n;

  return {
    get count() {
      return count;
    },
    get minOffset() {
      return minOffset;
    },
    get maxOffset() {
      return maxOffset;
    },
    append(row) {
      const offset = row.source_offset;
      if (minOffset < 0n || offset < minOffset) minOffset = offset;
      if (offset > maxOffset) maxOffset = offset;
      ids.push(BigInt(row.id));
      timestamps.push(BigInt(row.timestamp));
      offsets.push(offset);
      partition = row.source_partition;
      strings.first_name.push(row.first_name);
      strings.last_name.push(row.last_name);
      strings.email.push(row.email);
      strings.gender.push(row.gender);
      strings.ip_addr.push(row.ip_addr);
      strings.date.push(row.date);
      strings.country.push(row.country);
      count++;
    },
    columns: () => ({
      id: ids,
      ...strings,
      timestamp: timestamps,
      source_partition: new Int32Array(count).fill(partition),
      source_offset: offsets,
    }),
  };
}
