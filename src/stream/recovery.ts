/**
 * Start-up (and rebalance) recovery of one input partition's Parquet files, in a folder or a
 * bucket alike: files whose offsets are at or beyond the group's committed offset were written by
 * a cycle that never committed, so they go (the records will be processed again); leftover
 * temporary files of the partition go too (only a folder has them). A file that straddles the
 * committed offset cannot come from kstream's protocol: stop, loudly. Runs only after the
 * partition's transactional producer fenced the previous owner (partition-worker.ts).
 */
import { RecoveryError } from "../errors.ts";
import { listStoredFiles } from "../storage/listing.ts";
import { INGEST_DATE_PREFIX, isTemporaryName } from "../storage/names.ts";
import type { ParquetStore } from "../storage/store.ts";

// The class lives in the error hierarchy; re-exported here, where it is thrown.
export { RecoveryError };

export interface RecoveryResult {
  /** What was deleted, as a user finds it (paths or s3:// URLs). */
  readonly deleted: string[];
  readonly kept: number;
}

export async function recoverPartition(store: ParquetStore, topic: string, partition: number, committedOffset: bigint): Promise<RecoveryResult> {
  const deleted: string[] = [];
  let kept = 0;
  const temporaryPrefix = `.${topic}+${partition}+`;
  for (const object of await store.list(INGEST_DATE_PREFIX)) {
    const name = object.key.split("/").at(-1) ?? "";
    if (isTemporaryName(name) && name.startsWith(temporaryPrefix)) {
      await store.delete(object.key);
      deleted.push(store.describe(object.key));
    }
  }
  for (const file of await listStoredFiles(store)) {
    if (file.topic !== topic || file.partition !== partition) continue;
    if (file.firstOffset >= committedOffset) {
      await store.delete(file.key);
      deleted.push(store.describe(file.key));
    } else if (file.lastOffset >= committedOffset) {
      const where = store.describe(file.key);
      throw new RecoveryError(
        `${where} holds offsets ${file.firstOffset}-${file.lastOffset} but the group committed ${committedOffset} for partition ${partition}: ` +
          "the file straddles the commit point, which kstream never writes; move it away and check with recon",
        { context: { path: where, partition, committedOffset } },
      );
    } else {
      kept++;
    }
  }
  return { deleted, kept };
}
