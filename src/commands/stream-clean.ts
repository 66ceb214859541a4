/**
 * `kstream stream-clean`: consume the input topic as a consumer group and clean it into Parquet,
 * staging and dead letters, exactly once. Follows the topic until SIGINT/SIGTERM, or with
 * --until-caught-up stops at the end offsets seen at start (for cron and CI). With --serve, the
 * process answers /metrics and /healthz about itself while it runs.
 */
import { defineCommand } from "citty";
import { durationMs } from "../config/duration.ts";
import { ExitCode } from "../errors.ts";
import type { Config } from "../config/schema.ts";
import { createKafka, type KafkaContext } from "../kafka/client.ts";
import { topicLayout } from "../kafka/topics.ts";
import { defaultWorkerCount } from "../stream/clean-pool.ts";
import { runCleanStream, type CleanStreamSummary } from "../stream/clean-stream.ts";
import type { StreamSettings } from "../stream/types.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { defineFlags, numberValue, overrideFlag, serveAddress, serveFlags } from "./flags.ts";
import { commonArgs, configuredParquetStore, jsonArg, restartWithHeapTarget, startCommand } from "./shared.ts";

export const streamCleanFlags = defineFlags({
  "until-caught-up": { type: "boolean", description: "stop once the end offsets seen at start are processed", default: false },
  group: overrideFlag("clean.group_id", { type: "string", description: "consumer group (default clean.group_id)", valueHint: "ID" }),
  "parquet-dir": overrideFlag("clean.parquet_dir", { type: "string", description: "Parquet output: a folder or s3://bucket/prefix (default clean.parquet_dir)", valueHint: "DIR|URL" }),
  "file-max-rows": overrideFlag(
    "clean.file_max_rows",
    { type: "string", description: "close a Parquet file at this many rows", valueHint: "N" },
    numberValue({ integer: true, min: 1 }),
  ),
  "file-max-age": overrideFlag("clean.file_max_age", { type: "string", description: 'close a Parquet file this long after its first row ("30s")', valueHint: "DURATION" }),
  ...serveFlags,
});

/**
 * Measured over 1M and 5.8M records (README "Performance"): 1.6 took 16 % off stream-clean's wall
 * time at 5.8M records for 27 MB more RSS (267 MB); 1.7 and 2.0 were faster still, at 284 and
 * 320 MB, too close to or past the 300 MB the process is kept under. produce gained nothing.
 */
const CLEAN_HEAP_GROWTH_FACTOR = 1.6;

export const streamCleanCommand = defineCommand({
  meta: { name: "stream-clean", description: "Clean the input topic into Parquet, staging and dead letters, exactly once" },
  args: {
    ...streamCleanFlags.args,
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    const { config, secrets } = startCommand(args, streamCleanFlags.overrides(args));
    const serve = serveAddress(args);
    restartWithHeapTarget(config.clean.heap_target_mb, CLEAN_HEAP_GROWTH_FACTOR);
    const context = createKafka(config, secrets, "clean");
    const summary = await runCleanStream(context.kafka, streamSettings(config, context.retry), { untilCaughtUp: args["until-caught-up"], ...(serve && { serve }) });
    log.success(describeSummary(summary));
    if (args.json) await writeStdout(toJson(summary));
    return ExitCode.ok;
  },
});

/** The stream's settings from the config (flags already applied); the integration tests start workers with them too. */
export function streamSettings(config: Config, retry: KafkaContext["retry"]): StreamSettings {
  return {
    groupId: config.clean.group_id,
    inputTopic: config.topics.input,
    stagingTopic: config.topics.staging,
    deadLetterTopic: config.topics.dead_letter,
    store: configuredParquetStore(config),
    compression: { codec: config.clean.compression, ...(config.clean.compression_level !== undefined && { level: config.clean.compression_level }) },
    sendCompression: config.clean.send_compression,
    fileMaxRows: config.clean.file_max_rows,
    maxBufferedRows: config.clean.max_buffered_rows,
    workers: config.clean.workers ?? defaultWorkerCount(),
    fileMaxAgeMs: durationMs(config.clean.file_max_age),
    sessionTimeoutMs: durationMs(config.clean.session_timeout),
    rules: {
      nullPlaceholder: config.rules.null_placeholder,
      defaultIp: config.rules.default_ip,
      dateFormats: config.rules.date_formats,
      windowMs: durationMs(config.clean.window),
    },
    retry,
    retryLimitMs: durationMs(config.kafka.retry_limit),
    topicLayout: topicLayout(config),
  };
}

function describeSummary(summary: CleanStreamSummary): string {
  return [
    `${summary.stopped_by === "caught-up" ? "caught up" : "stopped"}: read ${formatCount(summary.read)}` +
      (summary.read_again > 0 ? ` (and ${formatCount(summary.read_again)} again, after a partition restarted or moved)` : ""),
    `cleaned ${formatCount(summary.cleaned)}`,
    `dead-lettered ${formatCount(summary.dead_lettered)}`,
    `${formatCount(summary.files)} Parquet files`,
    `${summary.seconds.toFixed(1)} s`,
    `${formatCount(summary.records_per_second)} records/s`,
  ].join(", ");
}
