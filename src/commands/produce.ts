/**
 * `kstream produce [FILE]`: publish a JSON array / NDJSON file (or stdin) onto the input topic,
 * counted in the ledger. Flags → config → the produce job's options and sink → summary and exit code.
 */
import { availableParallelism } from "node:os";
import { defineCommand } from "citty";
import { durationMs } from "../config/duration.ts";
import type { Config } from "../config/schema.ts";
import { ExitCode } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { kstreamTopics, topicLayout } from "../kafka/topics.ts";
import type { KafkaSinkSettings, ProduceOptions } from "../produce/options.ts";
import { produceRecords, type ProduceSummary } from "../produce/run.ts";
import { kafkaSink, openDryRunSink } from "../produce/sink.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { defineFlags, numberValue, overrideFlag } from "./flags.ts";
import { commonArgs, jsonArg, numberFlag, openConfiguredLedger, restartWithHeapTarget, startCommand } from "./shared.ts";

export const produceFlags = defineFlags({
  file: overrideFlag("produce.input", { type: "positional", required: false, description: 'input file (default produce.input; "-" reads stdin; .gz is decompressed)' }),
  rate: overrideFlag("produce.rate", { type: "string", description: "messages per second (0 = as fast as the broker takes them)", valueHint: "N" }, numberValue()),
  limit: { type: "string", description: "publish at most N records", valueHint: "N" },
  name: overrideFlag("produce.name", { type: "string", description: "producer name recorded in the ledger", valueHint: "NAME" }),
  topic: overrideFlag("topics.input", { type: "string", description: "input topic (default topics.input)", valueHint: "TOPIC" }),
  "dry-run": { type: "boolean", description: "parse and count, publish nothing", default: false },
});

export const produceCommand = defineCommand({
  meta: { name: "produce", description: "Publish a JSON array or NDJSON file of user records onto the input topic" },
  args: {
    ...produceFlags.args,
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    const loaded = startCommand(args, produceFlags.overrides(args));
    const { config } = loaded;
    restartWithHeapTarget(config.produce.heap_target_mb);
    const options = produceOptions(config, numberFlag(args.limit, "limit", { integer: true }));
    const ledger = args["dry-run"] ? undefined : openConfiguredLedger(config);
    try {
      // Built for a dry run too, which never connects it: a client config kafkajs cannot use (SASL
      // without a password, an unreadable CA file) fails both kinds of run alike.
      const context = createKafka(config, loaded.secrets, "producer");
      const sink = ledger ? kafkaSink(context, ledger, kafkaSinkSettings(config)) : openDryRunSink;
      const summary = await produceRecords(options, sink);
      log.success(describeSummary(summary));
      if (args.json) await writeStdout(toJson(summary));
      return ExitCode.ok;
    } finally {
      ledger?.close();
    }
  },
});

/** The produce loop's options from the config (flags already applied). */
export function produceOptions(config: Config, limit: number | undefined): ProduceOptions {
  return {
    source: config.produce.input,
    limit,
    producer: config.produce.name,
    topic: config.topics.input,
    rate: config.produce.rate,
    batchSize: config.produce.batch_size,
    scanInWorker: config.produce.scan_worker ?? availableParallelism() > 1,
  };
}

/** The Kafka sink's settings from the config (flags already applied). */
export function kafkaSinkSettings(config: Config): KafkaSinkSettings {
  return {
    brokers: config.kafka.brokers.join(","),
    producer: config.produce.name,
    topic: config.topics.input,
    deadLetterTopic: config.topics.dead_letter,
    topics: kstreamTopics(config),
    layout: topicLayout(config),
    rate: config.produce.rate,
    compression: config.produce.compression,
    heartbeatTimeoutMs: durationMs(config.ledger.heartbeat_timeout),
    retryLimitMs: durationMs(config.kafka.retry_limit),
  };
}

function describeSummary(summary: ProduceSummary): string {
  const verb = summary.status === "dry-run" ? "parsed" : "sent";
  return [
    `${summary.status === "interrupted" ? "interrupted: " : ""}${verb} ${formatCount(summary.sent)} records to ${summary.topic}`,
    `rejected ${formatCount(summary.rejected)}`,
    `${summary.seconds.toFixed(1)} s`,
    `${formatCount(summary.records_per_second)} records/s`,
    summary.run_id ? `run ${summary.run_id}` : "nothing published",
  ].join(", ");
}
