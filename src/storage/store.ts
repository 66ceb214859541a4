/**
 * Where Parquet files live, behind one small interface: a local folder (local-store.ts) or a
 * bucket of an S3-compatible store (s3-store.ts), chosen by `clean.parquet_dir`'s scheme. Keys are
 * the same on both: `ingest_date=YYYY-MM-DD/<topic>+<partition>+<first>+<last>.parquet`, relative
 * to the folder or the URL's prefix. stream-clean writes and recovers through it, recon reads
 * through it, and a later compaction needs no more than it offers: list, put, read, delete.
 *
 * Invariants every implementation keeps:
 * - put(key, bytes) makes the object visible whole or not at all; a reader (a listing, a ranged
 *   read, another tool) never sees part of it. A key that is taken already holds these very bytes
 *   afterwards, or put throws.
 * - list(prefix) names only objects that were put whole (and, on disk, the hidden temporary names
 *   a crash left behind, which recovery removes; a bucket never has those).
 * - delete(key) of a missing key is no error.
 * - open(object) gives hyparquet an AsyncBuffer that reads byte ranges on demand, so a reader
 *   fetches the footer and the column chunks it needs, never the whole file.
 */
import type { AsyncBuffer } from "hyparquet";

export interface StoredObject {
  /** Relative to the store's root: "ingest_date=2026-01-01/t+0+…parquet". */
  readonly key: string;
  readonly size: number;
}

export interface ParquetStore {
  /** "local" or "s3": what a message or a metric says the store is. */
  readonly kind: "local" | "s3";
  /** The store's root as a user wrote it: "/data/parquet", "s3://bucket/prefix/". */
  readonly root: string;
  /** A key as a user finds it: the file's path, or its s3:// URL. Never holds a secret. */
  describe(key: string): string;
  /** Whole-or-nothing, create-only where the store can (see the invariants above). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Every object whose key starts with `prefix` ("" for all), in key order. */
  list(prefix?: string): Promise<StoredObject[]>;
  delete(key: string): Promise<void>;
  /** Ranged reads of one object, for hyparquet. */
  open(object: StoredObject): Promise<AsyncBuffer>;
}

/** Key of the write probe: hidden, not a Parquet name, unique per process and moment. */
const probeKey = () => `.kstream-write-probe-${process.pid}-${Date.now().toString(36)}`;

/**
 * Whether this process may create (and remove) an object in the store: puts a small object and
 * deletes it. Resolves to undefined when it may, else the one-line reason (`kstream check`).
 */
export async function probeWritable(store: ParquetStore): Promise<string | undefined> {
  const key = probeKey();
  try {
    await store.put(key, new TextEncoder().encode("kstream write probe\n"));
  } catch (error) {
    return (error as Error).message;
  }
  try {
    await store.delete(key);
  } catch (error) {
    return `created ${store.describe(key)} but could not delete it: ${(error as Error).message}`;
  }
  return undefined;
}
