/**
 * Lists kstream's Parquet files by their names alone (topic, partition, offset range), without
 * opening them: what stream-clean's recovery and recon need to know. `listStoredFiles` works on
 * any ParquetStore; `listParquetFiles` is the same for a local folder, synchronously.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors.ts";
import { INGEST_DATE_PREFIX, type ParquetFileName, parseFileName } from "./names.ts";
import type { ParquetStore, StoredObject } from "./store.ts";

export interface ListedFile extends ParquetFileName {
  readonly path: string;
}

export interface StoredFile extends ParquetFileName, StoredObject {}

/** The store's kstream Parquet files (`ingest_date=…/<name>`), in key order; other objects are left out. */
export async function listStoredFiles(store: ParquetStore): Promise<StoredFile[]> {
  const files: StoredFile[] = [];
  for (const object of await store.list(INGEST_DATE_PREFIX)) {
    const parts = object.key.split("/");
    if (parts.length !== 2) continue;
    const parsed = parseFileName(parts[1]!);
    if (parsed) files.push({ ...parsed, ...object });
  }
  return files;
}

/** Every kstream Parquet file under the folder, by name only (nothing is opened). */
export function listParquetFiles(parquetDir: string): ListedFile[] {
  const files: ListedFile[] = [];
  for (const folder of dateFolders(parquetDir)) {
    for (const name of readdirSync(join(parquetDir, folder))) {
      const parsed = parseFileName(name);
      if (parsed) files.push({ ...parsed, path: join(parquetDir, folder, name) });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function dateFolders(parquetDir: string): string[] {
  try {
    return readdirSync(parquetDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name.startsWith(INGEST_DATE_PREFIX))
      .map((entry) => entry.name);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw error;
  }
}
