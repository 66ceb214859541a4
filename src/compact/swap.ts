/**
 * The swap of one merge group, crash-safe at every step, through the store alone:
 *   1. manifest `.<merged>.manifest.json` (the merged name, the originals) put whole  [compact-intent]
 *   2. merged file put whole (invisible until complete: temporary + rename, or one PUT) [compact-merged]
 *   3. each original deleted                                        [compact-deleting after the first]
 *   4. manifest deleted                                             [compact-cleared just before]
 * At every moment the originals, or the merged file, or both are visible, never neither. A swap
 * killed anywhere is settled by the next run before it plans (`settleLeftovers`): merged file
 * present → it holds every row, so finish (steps 3-4); absent → nothing was replaced, so undo
 * (drop the partial write and the manifest). While both are visible, readers that list through
 * storage/listing.ts listVisibleStoredFiles skip the originals the manifest names.
 */
import { IoError } from "../errors.ts";
import { crashPoint } from "../faults.ts";
import type { ParquetCompression } from "../storage/parquet-format.ts";
import { compactionManifestNameFor, mergedNameOfManifest, parseCompactionManifest } from "../storage/names.ts";
import { mergeGroup } from "./merge.ts";
import type { CompactStore, MergeGroup } from "./types.ts";

export async function swapGroup(store: CompactStore, group: MergeGroup, compression: ParquetCompression, stillHeld: () => void): Promise<{ rows: number; bytes: number }> {
  const manifestName = compactionManifestNameFor(group.merged);
  const { bytes, rows } = await mergeGroup(store, group, compression);
  const manifest = { merged: group.merged, originals: group.originals.map((o) => o.name), rows };
  stillHeld();
  await store.put(group.folder, manifestName, new TextEncoder().encode(`${JSON.stringify(manifest)}\n`));
  crashPoint("compact-intent");
  await store.put(group.folder, group.merged, bytes);
  crashPoint("compact-merged");
  await deleteOriginals(store, group.folder, manifest.originals);
  crashPoint("compact-cleared");
  await store.delete(group.folder, manifestName);
  return { rows, bytes: bytes.length };
}

async function deleteOriginals(store: CompactStore, folder: string, originals: readonly string[]): Promise<void> {
  for (const [index, name] of originals.entries()) {
    await store.delete(folder, name);
    if (index === 0) crashPoint("compact-deleting");
  }
}

/** Finishes or undoes every swap a killed run left in `folder`; returns how many of each. */
export async function settleLeftovers(store: CompactStore, folder: string): Promise<{ finished: number; undone: number }> {
  let finished = 0;
  let undone = 0;
  const listed = await store.list(folder);
  const names = new Set(listed.map((file) => file.name));
  for (const { name } of listed) {
    const merged = mergedNameOfManifest(name);
    if (merged === undefined) continue;
    const manifest = parseCompactionManifest(new TextDecoder().decode(await store.read(folder, name)));
    if (manifest === undefined) {
      // A whole-or-nothing put never leaves one: someone else wrote it; guessing could delete the only copy.
      throw new IoError(`${store.location}/${folder}/${name} is not a compaction manifest kstream wrote: move it away, then run compact again`, { context: { folder, name } });
    }
    if (names.has(merged)) {
      await deleteOriginals(store, folder, manifest.originals.filter((original) => names.has(original)));
      finished++;
    } else {
      // Not in place: nothing was replaced; drop what the interrupted put may have left.
      await store.abandon(folder, merged);
      undone++;
    }
    await store.delete(folder, name);
  }
  return { finished, undone };
}
