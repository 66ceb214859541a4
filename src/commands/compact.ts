/**
 * `kstream compact`: merges the small Parquet files of closed ingest_date= folders into files of
 * about compact.target_size_mb. One run at a time per folder (exit 4 when another holds it past
 * ledger.job_wait).
 */
import { defineCommand } from "citty";
import { localCompactStore } from "../compact/local-store.ts";
import { parquetStoreCompactStore } from "../compact/parquet-store.ts";
import { runCompaction } from "../compact/run.ts";
import { durationMs } from "../config/duration.ts";
import type { Config } from "../config/schema.ts";
import { ExitCode } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { defineFlags, overrideFlag } from "./flags.ts";
import { commonArgs, configuredParquetStore, jsonArg, openConfiguredLedger, startCommand } from "./shared.ts";

export const compactFlags = defineFlags({
  "min-age": overrideFlag("compact.min_age", { type: "string", description: "merge folders whose day ended at least this long ago (default compact.min_age)", valueHint: "DURATION" }),
  "dry-run": { type: "boolean", description: "print what would be merged, change nothing", default: false },
});

export const compactCommand = defineCommand({
  meta: { name: "compact", description: "Merge the small Parquet files of closed ingest_date= folders into large ones" },
  args: { ...compactFlags.args, ...jsonArg, ...commonArgs },
  async run({ args }) {
    const { config, secrets } = startCommand(args, compactFlags.overrides(args));
    const ledger = args["dry-run"] ? undefined : openConfiguredLedger(config);
    try {
      const summary = await runCompaction(createKafka(config, secrets, "compact").kafka, ledger, compactStoreFor(config), {
        topic: config.topics.input,
        groupId: config.clean.group_id,
        minAgeMs: durationMs(config.compact.min_age),
        targetBytes: config.compact.target_size_mb * 1024 * 1024,
        compression: { codec: config.clean.compression, level: config.clean.compression_level },
        dryRun: args["dry-run"],
        lease: { waitMs: durationMs(config.ledger.job_wait), staleAfterMs: durationMs(config.ledger.heartbeat_timeout) },
      });
      if (args.json) await writeStdout(toJson(summary));
      const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
      log.success(
        `${summary.dry_run ? "would merge" : "merged"} ${formatCount(summary.files_before)} files (${mb(summary.bytes_before)} MB) of ${summary.folders} closed folder(s) into ` +
          `${formatCount(summary.files_after)} (${mb(summary.bytes_after)} MB${summary.dry_run ? ", estimated" : ""}), ${summary.merged_files} merged, ${summary.seconds.toFixed(1)} s`,
      );
      return ExitCode.ok;
    } finally {
      ledger?.close();
    }
  },
});

/** A folder keeps its own store (durable renames, temporaries to abandon); a bucket goes through the ParquetStore. */
function compactStoreFor(config: Config) {
  const store = configuredParquetStore(config);
  return store.kind === "local" ? localCompactStore(config.clean.parquet_dir) : parquetStoreCompactStore(store);
}
