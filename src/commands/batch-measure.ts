/**
 * `kstream batch-measure`: per time window, unique users and the most/least represented country,
 * from the staging topic, to CSV (or --json). --since-last for hourly cron runs: one run at a time
 * per staging topic (exit 4 when another holds it past ledger.job_wait).
 */
import { defineCommand } from "citty";
import { durationMs } from "../config/duration.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { formatCsv } from "../measure/csv.ts";
import { runMeasures, type MeasureSummary } from "../measure/run.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { defineFlags, overrideFlag } from "./flags.ts";
import { commonArgs, jsonArg, openConfiguredLedger, startCommand } from "./shared.ts";

export const batchMeasureFlags = defineFlags({
  output: overrideFlag("measure.output", { type: "string", description: 'CSV file (default measure.output; "-" for stdout)', valueHint: "FILE" }),
  from: { type: "string", description: "only windows starting at or after this ISO time", valueHint: "TIME" },
  to: { type: "string", description: "only windows starting before this ISO time", valueHint: "TIME" },
  "since-last": { type: "boolean", description: "read only staging messages newer than the last --since-last run and merge", default: false },
});

export const batchMeasureCommand = defineCommand({
  meta: { name: "batch-measure", description: "Per time window: unique users and most/least represented country, to CSV" },
  args: {
    ...batchMeasureFlags.args,
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    const { config, secrets } = startCommand(args, batchMeasureFlags.overrides(args));
    const from = isoFlag(args.from, "from");
    const to = isoFlag(args.to, "to");
    if (from !== undefined && to !== undefined && from >= to) throw new UsageError("--from must be before --to");
    const ledger = args["since-last"] ? openConfiguredLedger(config) : undefined;
    try {
      const summary = await runMeasures(createKafka(config, secrets, "measure").kafka, ledger, {
        stagingTopic: config.topics.staging,
        placeholder: config.rules.null_placeholder,
        output: config.measure.output,
        from,
        to,
        sinceLast: args["since-last"],
        lease: { waitMs: durationMs(config.ledger.job_wait), staleAfterMs: durationMs(config.ledger.heartbeat_timeout) },
      });
      if (args.json) await writeStdout(toJson(summary.measures.map(toJsonRow)));
      else if (summary.output === "-") await writeStdout(formatCsv(summary.measures));
      printBusiest(summary);
      log.success(
        `${formatCount(summary.windows)} windows (${formatCount(summary.windows_recomputed)} computed) from ${formatCount(summary.messages_read)} staging messages` +
          `${summary.output === "-" ? "" : ` -> ${summary.output}`}, ${summary.seconds.toFixed(1)} s`,
      );
      return ExitCode.ok;
    } finally {
      ledger?.close();
    }
  },
});

function isoFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--${flag} expects an ISO-8601 time such as 2026-01-31T12:00:00Z, got "${value}"`);
  return time;
}

function toJsonRow(measure: MeasureSummary["measures"][number]) {
  return {
    window_start: new Date(measure.windowStart).toISOString(),
    window_end: new Date(measure.windowEnd).toISOString(),
    most_represented_country: measure.mostCountry,
    most_represented_country_count: measure.mostCount,
    least_represented_country: measure.leastCountry,
    least_represented_country_count: measure.leastCount,
    unique_users: measure.uniqueUsers,
  };
}

/** The busiest windows by unique users, for the person watching the run. */
function printBusiest(summary: MeasureSummary, top = 5): void {
  const busiest = [...summary.measures].sort((a, b) => b.uniqueUsers - a.uniqueUsers || a.windowStart - b.windowStart).slice(0, top);
  if (busiest.length === 0) return;
  const lines = busiest.map(
    (m) =>
      `  ${new Date(m.windowStart).toISOString()}  ${String(m.uniqueUsers).padStart(8)} users  most ${m.mostCountry ?? "-"} (${m.mostCount ?? 0})  least ${m.leastCountry ?? "-"} (${m.leastCount ?? 0})`,
  );
  log.info(`busiest windows:\n${lines.join("\n")}`);
}
