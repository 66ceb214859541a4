/**
 * compact's store over a ParquetStore (storage/store.ts), for a bucket: folders and names are the
 * two parts of a key (`ingest_date=…/<name>`), `put` is the store's whole-or-nothing,
 * create-only write, and an interrupted `put` leaves nothing behind to abandon (an object appears
 * in one PUT or one completed multipart upload, never in part). A folder store keeps
 * localCompactStore, whose puts leave a temporary file a rerun removes.
 */
import { IoError } from "../errors.ts";
import { INGEST_DATE_PREFIX } from "../storage/names.ts";
import type { ParquetStore, StoredObject } from "../storage/store.ts";
import type { CompactStore, StoredFile } from "./types.ts";

export function parquetStoreCompactStore(store: ParquetStore): CompactStore {
  const objectOf = async (folder: string, name: string): Promise<StoredObject> => {
    const key = `${folder}/${name}`;
    const found = (await store.list(key)).find((object) => object.key === key);
    if (!found) throw new IoError(`cannot read ${store.describe(key)}: it is not there`, { context: { key } });
    return found;
  };
  return {
    location: store.root,
    async listFolders() {
      const folders = new Set<string>();
      for (const { key } of await store.list(INGEST_DATE_PREFIX)) {
        const parts = key.split("/");
        if (parts.length === 2) folders.add(parts[0]!);
      }
      return [...folders].sort();
    },
    async list(folder) {
      const files: StoredFile[] = [];
      for (const { key, size } of await store.list(`${folder}/`)) {
        const name = key.slice(folder.length + 1);
        // A bucket listing has no modification time kstream relies on: the closed-folder rule
        // reads the folder's date and the group's committed offset, not file times.
        if (!name.includes("/")) files.push({ name, size, modifiedMs: 0 });
      }
      return files;
    },
    async read(folder, name) {
      const object = await objectOf(folder, name);
      const buffer = await store.open(object);
      return new Uint8Array(await buffer.slice(0, object.size));
    },
    put: (folder, name, bytes) => store.put(`${folder}/${name}`, bytes),
    delete: (folder, name) => store.delete(`${folder}/${name}`),
    abandon: async () => undefined,
  };
}
