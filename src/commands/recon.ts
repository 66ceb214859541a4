/**
 * `kstream recon`: prove that every record a producer run published (or, with --topic, every data
 * offset of the input topic) landed exactly once, as a Parquet row or a dead letter. Exit 0 all
 * accounted for; 1 the consumer is behind; 3 records missing or duplicated; 2 usage or
 * configuration error.
 */
import { defineCommand } from "citty";
import { durationMs } from "../config/duration.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import type { Verdict } from "../recon/arithmetic.ts";
import { reconcile, type RunReport, selectRuns } from "../recon/run.ts";
import { reconcileTopic, type TopicReport, type TopicStart } from "../recon/topic.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { commonArgs, configuredParquetStore, jsonArg, openConfiguredLedger, startCommand } from "./shared.ts";

const EXIT_OF: Record<Verdict, number> = { ok: ExitCode.ok, behind: ExitCode.behind, mismatch: ExitCode.mismatch };

export const reconCommand = defineCommand({
  meta: { name: "recon", description: "Prove every produced record landed exactly once (exit 0 ok, 1 behind, 3 missing/duplicated)" },
  args: {
    run: { type: "string", description: "the producer run to check (default: the latest)", valueHint: "ID" },
    producer: { type: "string", description: "the latest run of this producer name", valueHint: "NAME" },
    all: { type: "boolean", description: "every run in the ledger, as a table", default: false },
    topic: { type: "boolean", description: "the input topic itself instead of a producer run (no ledger needed)", default: false },
    "from-offset": { type: "string", description: "with --topic: start at this offset on every partition (default: the low watermark)", valueHint: "N" },
    since: { type: "string", description: "with --topic: start at the first offset with a timestamp at or after this time", valueHint: "ISO-TIME" },
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    const { config, secrets } = startCommand(args);
    if ([args.run, args.producer, args.all || undefined, args.topic || undefined].filter(Boolean).length > 1) {
      throw new UsageError("--run, --producer, --all and --topic exclude each other");
    }
    if (args.topic) {
      const report = await reconcileTopic(
        createKafka(config, secrets, "recon").kafka,
        { inputTopic: config.topics.input, deadLetterTopic: config.topics.dead_letter, groupId: config.clean.group_id, store: configuredParquetStore(config) },
        topicStart(args["from-offset"], args.since),
      );
      if (args.json) await writeStdout(toJson(report));
      log.info(describeTopic(report));
      return EXIT_OF[report.verdict];
    }
    if (args["from-offset"] !== undefined || args.since !== undefined) throw new UsageError("--from-offset and --since go with --topic");
    const ledger = openConfiguredLedger(config);
    try {
      const runs = selectRuns(ledger, { runId: args.run, producer: args.producer, all: args.all });
      const reports = await reconcile(createKafka(config, secrets, "recon").kafka, ledger, runs, {
        inputTopic: config.topics.input,
        deadLetterTopic: config.topics.dead_letter,
        groupId: config.clean.group_id,
        store: configuredParquetStore(config),
        heartbeatTimeoutMs: durationMs(config.ledger.heartbeat_timeout),
      });
      if (args.json) await writeStdout(toJson(args.all ? reports : reports[0]));
      for (const report of reports) log.info(describe(report));
      const worst = reports.some((r) => r.verdict === "mismatch") ? "mismatch" : reports.some((r) => r.verdict === "behind") ? "behind" : "ok";
      return EXIT_OF[worst];
    } finally {
      ledger.close();
    }
  },
});

function describe(report: RunReport): string {
  const verdict = report.verdict === "ok" ? "recon: OK" : report.verdict === "behind" ? "recon: BEHIND" : "recon: MISMATCH";
  const figures = [
    `published ${formatCount(report.published)}`,
    `in Parquet ${formatCount(report.landed)}`,
    `dead-lettered ${formatCount(report.dead_lettered)}`,
    `pending ${formatCount(report.pending)}`,
    `missing ${formatCount(report.missing + report.not_in_topic)}`,
    `duplicated ${formatCount(report.duplicated)}`,
  ].join(", ");
  const samples = [
    report.first_missing.length ? `first missing (partition:offset) ${report.first_missing.join(" ")}` : "",
    report.first_duplicated.length ? `first duplicated ${report.first_duplicated.join(" ")}` : "",
    report.published !== report.ledger_sent ? `the ledger counts ${report.ledger_sent} sent but its ranges hold ${report.published}` : "",
  ].filter(Boolean);
  return `${verdict} — run ${report.run.id} (${report.run.producer}, ${report.run.status}): ${figures}${samples.length ? `; ${samples.join("; ")}` : ""}`;
}

function topicStart(fromOffset: string | undefined, since: string | undefined): TopicStart {
  if (fromOffset !== undefined && since !== undefined) throw new UsageError("--from-offset and --since exclude each other");
  if (fromOffset !== undefined) {
    if (!/^\d+$/.test(fromOffset)) throw new UsageError(`--from-offset must be a whole number >= 0, not "${fromOffset}"`);
    return { kind: "offset", offset: Number(fromOffset) };
  }
  if (since !== undefined) {
    const timestampMs = Date.parse(since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(timestampMs)) throw new UsageError(`--since must be an ISO-8601 time (2024-05-01T12:00:00Z), not "${since}"`);
    return { kind: "time", timestampMs };
  }
  return { kind: "low" };
}

function describeTopic(report: TopicReport): string {
  const verdict = report.verdict === "ok" ? "recon: OK" : report.verdict === "behind" ? "recon: BEHIND" : "recon: MISMATCH";
  const figures = [
    `offsets ${formatCount(report.offsets)}`,
    `in Parquet ${formatCount(report.landed)}`,
    `dead-lettered ${formatCount(report.dead_lettered)}`,
    `not data ${formatCount(report.not_data)} (${formatCount(report.control_markers)} control markers, ${formatCount(report.aborted)} aborted)`,
    `pending ${formatCount(report.pending)}`,
    `missing ${formatCount(report.missing)}`,
    `duplicated ${formatCount(report.duplicated)}`,
  ].join(", ");
  const samples = [
    report.first_missing.length ? `first missing (partition:offset) ${report.first_missing.join(" ")}` : "",
    report.first_duplicated.length ? `first duplicated ${report.first_duplicated.join(" ")}` : "",
  ].filter(Boolean);
  return `${verdict} — topic ${report.topic} (group ${report.group}): ${figures}${samples.length ? `; ${samples.join("; ")}` : ""}`;
}
