/**
 * The ParquetStore of a local folder: put is durable.ts's whole-file write (temporary name beside
 * the file, fsync, rename, fsync of the folder), so a crash leaves the old state or the whole new
 * file, at worst a hidden `.<name>.tmp` that recovery deletes. Listing looks at the folder and its
 * sub-folders (the `ingest_date=` ones), one level deep, which is the whole layout kstream writes.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { asyncBufferFromFile } from "hyparquet";
import { errnoOf, errnoOrMessage, IoError } from "../errors.ts";
import { writeFileDurably } from "./durable.ts";
import type { ParquetStore, StoredObject } from "./store.ts";

export function createLocalStore(dir: string): ParquetStore {
  const pathOf = (key: string) => join(dir, ...key.split("/"));
  return {
    kind: "local",
    root: dir,
    describe: pathOf,
    async put(key, bytes) {
      writeFileDurably(pathOf(key), bytes, "Parquet file");
    },
    async list(prefix = "") {
      return listFolder(dir).filter((object) => object.key.startsWith(prefix));
    },
    async delete(key) {
      try {
        rmSync(pathOf(key), { force: true });
      } catch (error) {
        throw new IoError(`cannot delete ${pathOf(key)}: ${errnoOrMessage(error)}`, { cause: error, context: { path: pathOf(key) } });
      }
    },
    open(object) {
      return asyncBufferFromFile(pathOf(object.key));
    },
  };
}

/** Files in the folder and in its sub-folders, keys with "/" whatever the platform; a missing folder is empty. */
function listFolder(dir: string): StoredObject[] {
  const objects: StoredObject[] = [];
  const add = (relative: string) => {
    try {
      objects.push({ key: relative.split(sep).join("/"), size: statSync(join(dir, relative)).size });
    } catch (error) {
      // Deleted between the listing and the look (recovery of another partition): not there.
      if (errnoOf(error) !== "ENOENT") throw error;
    }
  };
  for (const entry of entries(dir)) {
    if (entry.isFile()) add(entry.name);
    else if (entry.isDirectory()) for (const inner of entries(join(dir, entry.name))) if (inner.isFile()) add(join(entry.name, inner.name));
  }
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function entries(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return [];
    throw new IoError(`cannot list ${dir}: ${errnoOrMessage(error)}`, { cause: error, context: { path: dir } });
  }
}
