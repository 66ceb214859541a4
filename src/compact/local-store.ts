/**
 * compact's store over a local folder: listing by readdir/stat, whole-file writes through
 * storage/durable.ts (temporary name, fsync, rename, fsync of the folder), durable deletes.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { errnoOf, IoError } from "../errors.ts";
import { removeFileDurably, temporaryPathFor, writeFileDurably } from "../storage/durable.ts";
import { dateFolders } from "../storage/listing.ts";
import type { CompactStore, StoredFile } from "./types.ts";

export function localCompactStore(root: string): CompactStore {
  return {
    location: root,
    listFolders: async () => dateFolders(root).sort(),
    async list(folder) {
      const files: StoredFile[] = [];
      for (const name of readdirSync(join(root, folder))) {
        try {
          const stat = statSync(join(root, folder, name));
          if (stat.isFile()) files.push({ name, size: stat.size, modifiedMs: stat.mtimeMs });
        } catch (error) {
          if (errnoOf(error) !== "ENOENT") throw error; // gone between readdir and stat: not listed
        }
      }
      return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async read(folder, name) {
      try {
        return readFileSync(join(root, folder, name));
      } catch (error) {
        throw new IoError(`cannot read ${join(root, folder, name)}: ${errnoOf(error) ?? String(error)}`, { cause: error });
      }
    },
    put: async (folder, name, bytes) => writeFileDurably(join(root, folder, name), bytes, "merged file"),
    delete: async (folder, name) => removeFileDurably(join(root, folder, name)),
    abandon: async (folder, name) => rmSync(temporaryPathFor(join(root, folder, name)), { force: true }),
  };
}
