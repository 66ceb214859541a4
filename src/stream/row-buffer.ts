/**
 * Cleaned rows of one (partition, ingest date) kept column by column until the cycle ends: one
 * array per column instead of one object per row, which is what the Parquet writer wants anyway.
 */
import type { CleanRow } from "../clean/types.ts";

export interface RowBuffer {
  readonly count: number;
  readonly minOffset: bigint;
  readonly maxOffset: bigint;
  append(row: CleanRow): void;
  columns(): ParquetColumns;
}

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
  source_partition: number[];
  source_offset: bigint[];
}

export function createRowBuffer(): RowBuffer {
  const columns: ParquetColumns = {
    id: [],
    first_name: [],
    last_name: [],
    email: [],
    gender: [],
    ip_addr: [],
    date: [],
    country: [],
    timestamp: [],
    source_partition: [],
    source_offset: [],
  };
  let minOffset = -1n;
  let maxOffset = -1n;
  return {
    get count() {
      return columns.id.length;
    },
    get minOffset() {
      return minOffset;
    },
    get maxOffset() {
      return maxOffset;
    },
    append(row) {
      const offset = BigInt(row.source_offset);
      if (minOffset < 0n || offset < minOffset) minOffset = offset;
      if (offset > maxOffset) maxOffset = offset;
      columns.id.push(BigInt(row.id));
      columns.first_name.push(row.first_name);
      columns.last_name.push(row.last_name);
      columns.email.push(row.email);
      columns.gender.push(row.gender);
      columns.ip_addr.push(row.ip_addr);
      columns.date.push(row.date);
      columns.country.push(row.country);
      columns.timestamp.push(BigInt(row.timestamp));
      columns.source_partition.push(row.source_partition);
      columns.source_offset.push(offset);
    },
    columns: () => columns,
  };
}
