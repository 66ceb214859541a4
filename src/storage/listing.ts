/**
 * Lists kstream's Parquet files by their names alone (topic, partition, offset range), without
 * opening them: what stream-clean's recovery and recon need to know. `listStoredFiles` works on
 * any ParquetStore; `listParquetFiles` is the same for a local folder, synchronously. Readers that
 * count rows (recon) list the *visible data* (`listVisibleStoredFiles`): while compact swaps a
 * merged file in, the files a manifest says it replaces are left out as soon as the merged file is
 * there, so no row is counted twice (README "kstream compact": what a reader sees during the swap).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors.ts";
import { INGEST_DATE_PREFIX, mergedNameOfManifest, type ParquetFileName, parseCompactionManifest, parseFileName } from "./names.ts";
import type { ParquetStore, StoredObject } from "./store.ts";

export interface ListedFile extends ParquetFileName {
  readonly path: string;
}

export interface StoredFile extends ParquetFileName, StoredObject {}

/** The store's kstream Parquet files (`ingest_date=…/<name>`), in key order; other objects are left out. */
export async function listStoredFiles(store: ParquetStore): Promise<StoredFile[]> {
  return parquetFilesOf(await store.list(INGEST_DATE_PREFIX));
}

/**
 * Like listStoredFiles, without the originals a finished merge replaces: a file named in a
 * compaction manifest is left out when the manifest's merged file is listed too (it holds every
 * row of them). An unreadable manifest hides nothing (a reader then sees the duplicates, never a gap).
 */
export async function listVisibleStoredFiles(store: ParquetStore): Promise<StoredFile[]> {
  const objects = await store.list(INGEST_DATE_PREFIX);
  const files = parquetFilesOf(objects);
  const present = new Set(files.map((file) => file.key));
  const replaced = new Set<string>();
  for (const object of objects) {
    const [folder, name] = object.key.split("/");
    const merged = name === undefined ? undefined : mergedNameOfManifest(name);
    if (merged === undefined || !present.has(`${folder}/${merged}`)) continue;
    let text: string;
    try {
      const buffer = await store.open(object);
      text = new TextDecoder().decode(await buffer.slice(0, object.size));
    } catch (error) {
      if (errnoOf(error) === "ENOENT") continue; // the swap finished meanwhile: the originals are gone too
      throw error;
    }
    for (const original of parseCompactionManifest(text)?.originals ?? []) replaced.add(`${folder}/${original}`);
  }
  return replaced.size === 0 ? files : files.filter((file) => !replaced.has(file.key));
}

function parquetFilesOf(objects: readonly StoredObject[]): StoredFile[] {
  const files: StoredFile[] = [];
  for (const object of objects) {
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
