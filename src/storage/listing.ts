/**
 * Lists kstream's Parquet files under a folder by their names alone (topic, partition, offset
 * range), without opening them: what stream-clean's recovery and recon need to know. Readers that
 * count rows (recon) list the *visible data*: while compact swaps a merged file in, the files a
 * manifest says it replaces are left out as soon as the merged file is there, so no row is counted
 * twice (README "kstream compact": what a reader sees during the swap).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors.ts";
import { INGEST_DATE_PREFIX, mergedNameOfManifest, type ParquetFileName, parseCompactionManifest, parseFileName } from "./names.ts";

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

/**
 * Like listParquetFiles, without the originals a finished merge replaces: a file listed in a
 * compaction manifest is left out when the manifest's merged file is listed too (it holds every
 * row of them). An unreadable manifest hides nothing (a reader then sees the duplicates, never a gap).
 */
export function listVisibleParquetFiles(parquetDir: string): ListedFile[] {
  const files = listParquetFiles(parquetDir);
  const present = new Set(files.map((file) => file.path));
  const replaced = new Set<string>();
  for (const folder of dateFolders(parquetDir)) {
    for (const name of readdirSync(join(parquetDir, folder))) {
      const merged = mergedNameOfManifest(name);
      if (merged === undefined || !present.has(join(parquetDir, folder, merged))) continue;
      let text: string;
      try {
        text = readFileSync(join(parquetDir, folder, name), "utf8");
      } catch (error) {
        if (errnoOf(error) === "ENOENT") continue; // the swap finished meanwhile: the originals are gone too
        throw error;
      }
      for (const original of parseCompactionManifest(text)?.originals ?? []) replaced.add(join(parquetDir, folder, original));
    }
  }
  return replaced.size === 0 ? files : files.filter((file) => !replaced.has(file.path));
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

