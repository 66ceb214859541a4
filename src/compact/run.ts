/**
 * `kstream compact`: one run at a time per Parquet location (a ledger lease), settles what a killed
 * run left, reads the group's committed offsets, plans (plan.ts) and swaps each group (swap.ts).
 * Runs that overlap give what one run gives: the second waits for the first (ledger.job_wait) and
 * then finds its work done; every step is idempotent, so even two holders at once lose nothing.
 */
import type { Kafka } from "kafkajs";
import { toKafkaError } from "../kafka/errors.ts";
import { committedOffsets, partitionBounds } from "../kafka/offsets.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { ParquetCompression } from "../storage/parquet-format.ts";
import { parseFileName } from "../storage/names.ts";
import { log } from "../ui/log.ts";
import { planCompaction } from "./plan.ts";
import { settleLeftovers, swapGroup } from "./swap.ts";
import type { CandidateFile, CompactStore, CompactSummary } from "./types.ts";

export interface CompactOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly minAgeMs: number;
  readonly targetBytes: number;
  readonly compression: ParquetCompression;
  readonly dryRun: boolean;
  readonly lease: { readonly waitMs: number; readonly staleAfterMs: number };
  readonly nowMs?: number;
}

export async function runCompaction(kafka: Kafka, ledger: Ledger | undefined, store: CompactStore, options: CompactOptions): Promise<CompactSummary> {
  const startedAt = performance.now();
  const describe = `kstream compact of ${store.location}`;
  const lease = options.dryRun
    ? undefined
    : await ledger!.acquireLease(`compact ${store.location}`, {
        waitMs: options.lease.waitMs,
        staleAfterMs: options.lease.staleAfterMs,
        describe,
        onWait: (holder) => log.info(`${describe} is running in pid ${holder.pid} on ${holder.host}: waiting for it (up to ledger.job_wait)`),
        onTakeOver: (reason) => log.warn(`${describe}: taking over the lease of a run that stopped without giving it up (${reason})`),
      });
  try {
    const stillHeld = () => lease?.whileHeld(() => undefined);
    const folders = await store.listFolders();
    let resumed = 0;
    let undone = 0;
    if (!options.dryRun) {
      for (const folder of folders) {
        const settled = await settleLeftovers(store, folder);
        resumed += settled.finished;
        undone += settled.undone;
      }
      if (resumed + undone > 0) log.info(`compact: finished ${resumed} and undid ${undone} swap(s) a stopped run left`);
    }
    const committed = await readCommitted(kafka, options.groupId, options.topic);
    const files: CandidateFile[] = [];
    for (const folder of folders) {
      for (const stored of await store.list(folder)) {
        const parsed = parseFileName(stored.name);
        if (parsed?.topic !== options.topic) continue;
        files.push({ folder, name: stored.name, partition: parsed.partition, firstOffset: parsed.firstOffset, lastOffset: parsed.lastOffset, size: stored.size });
      }
    }
    const plan = planCompaction({
      topic: options.topic,
      folders,
      files,
      committed,
      nowMs: options.nowMs ?? Date.now(),
      minAgeMs: options.minAgeMs,
      targetBytes: options.targetBytes,
    });
    const closed = new Set(plan.closedFolders);
    const before = files.filter((file) => closed.has(file.folder));
    let filesAfter = before.length;
    let bytesAfter = before.reduce((sum, file) => sum + file.size, 0);
    let rows = 0;
    for (const group of plan.groups) {
      filesAfter -= group.originals.length - 1;
      if (options.dryRun) continue;
      const swapped = await swapGroup(store, group, options.compression, stillHeld);
      bytesAfter += swapped.bytes - group.bytes;
      rows += swapped.rows;
      log.debug(`compact: ${group.originals.length} files -> ${group.folder}/${group.merged} (${swapped.rows} rows)`);
    }
    return {
      location: store.location,
      folders: plan.closedFolders.length,
      files_before: before.length,
      bytes_before: before.reduce((sum, file) => sum + file.size, 0),
      files_after: filesAfter,
      bytes_after: bytesAfter,
      merged_files: plan.groups.length,
      rows,
      resumed,
      undone,
      dry_run: options.dryRun,
      seconds: (performance.now() - startedAt) / 1000,
    };
  } finally {
    lease?.release();
  }
}

/** The committed offsets of the group: files wholly below them are final (stream-clean never deletes them). */
async function readCommitted(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await committedOffsets(admin, groupId, topic, await partitionBounds(admin, topic));
  } catch (error) {
    throw toKafkaError(error, "cannot read the group's committed offsets", { topic, group: groupId });
  } finally {
    await admin.disconnect();
  }
}
