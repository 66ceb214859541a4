/**
 * `kstream produce [FILE]`: publish a JSON array / NDJSON file (or stdin) onto the input topic,
 * counted in the ledger. Flags → config → the produce job → summary and exit code.
 */
import { defineCommand } from "citty";
import { ExitCode } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { produceRecords, type ProduceSummary } from "../produce/run.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { formatCount } from "../ui/progress.ts";
import { commonArgs, jsonArg, numberFlag, openConfiguredLedger, startCommand } from "./shared.ts";

export const produceCommand = defineCommand({
  meta: { name: "produce", description: "Publish a JSON array or NDJSON file of user records onto the input topic" },
  args: {
    file: { type: "positional", required: false, description: 'input file (default produce.input; "-" reads stdin; .gz is decompressed)' },
    rate: { type: "string", description: "messages per second (0 = as fast as the broker takes them)", valueHint: "N" },
    limit: { type: "string", description: "publish at most N records", valueHint: "N" },
    name: { type: "string", description: "producer name recorded in the ledger", valueHint: "NAME" },
    topic: { type: "string", description: "input topic (default topics.input)", valueHint: "TOPIC" },
    "dry-run": { type: "boolean", description: "parse and count, publish nothing", default: false },
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    const loaded = startCommand(
      args,
      {
        produce: { input: args.file, rate: numberFlag(args.rate, "rate"), name: args.name },
        topics: { input: args.topic },
      },
      { "produce.input": "FILE argument", "produce.rate": "--rate", "produce.name": "--name", "topics.input": "--topic" },
    );
    const { config } = loaded;
    const limit = numberFlag(args.limit, "limit", { integer: true });
    const dryRun = args["dry-run"];
    const ledger = dryRun ? undefined : openConfiguredLedger(config);
    try {
      const summary = await produceRecords(createKafka(config, loaded.secrets, "producer"), ledger, {
        source: config.produce.input,
        limit,
        dryRun,
      });
      log.success(describeSummary(summary));
      if (args.json) await writeStdout(toJson(summary));
      return ExitCode.ok;
    } finally {
      ledger?.close();
    }
  },
});

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
