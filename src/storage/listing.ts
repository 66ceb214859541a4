/**
 * Lists kstream's Parquet files under a folder by their names alone (topic, partition, offset
 * range), without opening them: what stream-clean's recovery and recon need to know.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors.ts";
import { INGEST_DATE_PREFIX, type ParquetFileName, parseFileName } from "./names.ts";

export interface ListedFile extends ParquetFileName {
  readonly path: string;
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

