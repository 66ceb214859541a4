/**
 * Start-up (and rebalance) recovery of the Parquet folder for one input partition: files whose
 * offsets are at or beyond the group's committed offset were written by a cycle that never
 * committed, so they go (the records will be processed again); leftover temporary files go too.
 * A file that straddles the committed offset cannot come from kstream's protocol: stop, loudly.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RecoveryError } from "../errors.ts";
import { dateFolders, listParquetFiles } from "../storage/listing.ts";
import { isTemporaryName } from "../storage/names.ts";

// The class lives in the error hierarchy; re-exported here, where it is thrown.
export { RecoveryError };

export interface RecoveryResult {
  readonly deleted: string[];
  readonly kept: number;
}

export async function recoverPartition(parquetDir: string, topic: string, partition: number, committedOffset: bigint): Promise<RecoveryResult> {
  const deleted: string[] = [];
  let kept = 0;
  const prefix = `.${topic}+${partition}+`;
  for (const folder of dateFolders(parquetDir)) {
    for (const name of readdirSync(join(parquetDir, folder))) {
      if (isTemporaryName(name) && name.startsWith(prefix)) {
        rmSync(join(parquetDir, folder, name), { force: true });
        deleted.push(join(parquetDir, folder, name));
      }
    }
  }
  for (const file of listParquetFiles(parquetDir)) {
    if (file.topic !== topic || file.partition !== partition) continue;
    if (file.firstOffset >= committedOffset) {
      rmSync(file.path, { force: true });
      deleted.push(file.path);
    } else if (file.lastOffset >= committedOffset) {
      throw new RecoveryError(
        `${file.path} holds offsets ${file.firstOffset}-${file.lastOffset} but the group committed ${committedOffset} for partition ${partition}: ` +
          "the file straddles the commit point, which kstream never writes; move it away and check with recon",
        { context: { path: file.path, partition, committedOffset } },
      );
    } else {
      kept++;
    }
  }
  return { deleted, kept };
}
