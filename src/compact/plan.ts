/**
 * Pure: which files merge into which. Inputs are names, sizes, the group's committed offsets and
 * the clock; no I/O. Invariants:
 * - only folders whose UTC day ended at least `minAgeMs` ago are touched (a closed folder);
 * - only files wholly below the partition's committed offset are merged: those are final (stream-clean's
 *   recovery deletes only files at or past it), so a merged file is too, and never straddles it;
 * - a group is files of one folder and one partition, consecutive in offset order, with no file
 *   overlapping the one before it, and at least two files; it grows while its bytes stay within the
 *   target (its first file always fits); files already at half the target or more are left alone;
 * - the merged file is named by the group's first and last offset, with the +compacted marker.
 */
import { INGEST_DATE_PREFIX, compactedFileNameFor } from "../storage/names.ts";
import type { CandidateFile, CompactPlan, MergeGroup } from "./types.ts";

const DAY_MS = 86_400_000;

export interface PlanInput {
  readonly topic: string;
  readonly folders: readonly string[];
  readonly files: readonly CandidateFile[];
  /** Per partition, the group's committed offset (no entry: the partition is not compacted). */
  readonly committed: ReadonlyMap<number, bigint>;
  readonly nowMs: number;
  readonly minAgeMs: number;
  readonly targetBytes: number;
}

/** Whether a folder's day ended at least `minAgeMs` before `nowMs` (unparseable names: never). */
export function isClosedFolder(folder: string, nowMs: number, minAgeMs: number): boolean {
  if (!folder.startsWith(INGEST_DATE_PREFIX)) return false;
  const date = folder.slice(INGEST_DATE_PREFIX.length);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const start = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(start) && nowMs - (start + DAY_MS) >= minAgeMs;
}

export function planCompaction(input: PlanInput): CompactPlan {
  const closedFolders = input.folders.filter((folder) => isClosedFolder(folder, input.nowMs, input.minAgeMs)).sort();
  const closed = new Set(closedFolders);
  const runs = new Map<string, CandidateFile[]>();
  let skipped = 0;
  for (const file of input.files) {
    if (!closed.has(file.folder)) continue;
    const committed = input.committed.get(file.partition);
    if (committed === undefined || file.lastOffset >= committed) {
      skipped++;
      continue;
    }
    const key = `${file.folder}\u0000${file.partition}`;
    let list = runs.get(key);
    if (!list) runs.set(key, (list = []));
    list.push(file);
  }
  const groups: MergeGroup[] = [];
  for (const files of runs.values()) {
    files.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
    let current: CandidateFile[] = [];
    let bytes = 0;
    const close = () => {
      if (current.length >= 2) groups.push(groupOf(input.topic, current, bytes));
      else skipped += current.length;
      current = [];
      bytes = 0;
    };
    for (const file of files) {
      if (file.size * 2 >= input.targetBytes) {
        // Big enough as it is, and a boundary: a group never spans the range of a file left out.
        close();
        skipped++;
        continue;
      }
      const previous = current.at(-1);
      const overlaps = previous !== undefined && file.firstOffset <= previous.lastOffset;
      if (overlaps || (current.length > 0 && bytes + file.size > input.targetBytes)) close();
      current.push(file);
      bytes += file.size;
    }
    close();
  }
  groups.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : a.partition - b.partition || (a.merged < b.merged ? -1 : 1)));
  return { groups, closedFolders, skipped };
}

function groupOf(topic: string, files: CandidateFile[], bytes: number): MergeGroup {
  const first = files[0]!;
  const last = files.at(-1)!;
  return {
    folder: first.folder,
    partition: first.partition,
    merged: compactedFileNameFor(topic, first.partition, first.firstOffset, last.lastOffset),
    originals: files,
    bytes,
  };
}
