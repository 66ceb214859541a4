/**
 * Cleaned rows of one (partition, ingest date) kept column by column until their row group is
 * encoded: one array per column instead of one object per row, and the integer columns in typed
 * arrays (8 bytes a value, no per-value objects). columns() hands the int64 columns over as arrays
 * of bigint (parquet-format.ts says why): their bigints live only while the group is encoded, so
 * the rows waiting in the buffer stay 8 bytes a value.
 */
import type { CleanRow } from "../clean/types.ts";
import type { ParquetColumns } from "../storage/parquet-format.ts";

export type { ParquetColumns };

export interface RowBuffer {
  readonly count: number;
  readonly minOffset: bigint;
  readonly maxOffset: bigint;
  append(row: CleanRow): void;
  /** The columns of the `count` rows: the text columns are the buffer's own arrays, the int64 columns made for the call. */
  columns(): ParquetColumns;
}

const INITIAL_CAPACITY = 1024;

export function createRowBuffer(): RowBuffer {
  let capacity = INITIAL_CAPACITY;
  let ids = new BigInt64Array(capacity);
  let timestamps = new BigInt64Array(capacity);
  let offsets = new BigInt64Array(capacity);
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

  const grow = () => {
    capacity *= 2;
    const bigger = (old: BigInt64Array) => {
      const next = new BigInt64Array(capacity);
      next.set(old);
      return next;
    };
    ids = bigger(ids);
    timestamps = bigger(timestamps);
    offsets = bigger(offsets);
  };

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
      if (count === capacity) grow();
      const offset = row.source_offset;
      if (minOffset < 0n || offset < minOffset) minOffset = offset;
      if (offset > maxOffset) maxOffset = offset;
      ids[count] = BigInt(row.id);
      timestamps[count] = BigInt(row.timestamp);
      offsets[count] = offset;
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
      id: Array.from(ids.subarray(0, count)),
      ...strings,
      timestamp: Array.from(timestamps.subarray(0, count)),
      source_partition: new Int32Array(count).fill(partition),
      source_offset: Array.from(offsets.subarray(0, count)),
    }),
  };
}
