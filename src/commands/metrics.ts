/**
 * `kstream metrics`: brokers, topics and consumer groups through the admin API, as a table (TTY),
 * `--json`, `--prometheus`, repeated with `--watch`, or served over HTTP with `--serve`. With
 * `--fail-if-*` thresholds a breach is one line on stderr and exit 1 (at the end, when watching).
 */
import { defineCommand } from "citty";
import { ExitCode, UsageError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { kstreamTopics } from "../kafka/topics.ts";
import { formatPrometheus } from "../metrics/format-prometheus.ts";
import { formatTable } from "../metrics/format-table.ts";
import { breachKey, hasThresholds, type Thresholds } from "../metrics/health.ts";
import { createObserver, watchReports } from "../metrics/run.ts";
import { serveMetrics } from "../metrics/serve.ts";
import type { BreachReport, MetricsReport } from "../metrics/types.ts";
import { log } from "../ui/log.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { whenShutdown } from "../ui/shutdown.ts";
import { serveAddress, serveFlags } from "./flags.ts";
import { commonArgs, jsonArg, numberFlag, repeatedFlag, startCommand } from "./shared.ts";

export const metricsCommand = defineCommand({
  meta: { name: "metrics", description: "Broker, topic and consumer-group figures through the admin API: lag in messages and seconds, rates" },
  args: {
    topic: { type: "string", description: "a topic to show (repeatable; default: the three kstream topics)", valueHint: "NAME" },
    group: { type: "string", description: "a consumer group to show (repeatable; default: clean.group_id)", valueHint: "ID" },
    "all-topics": { type: "boolean", description: "every topic except Kafka's internal ones", default: false },
    "all-groups": { type: "boolean", description: "every consumer group", default: false },
    ...jsonArg,
    prometheus: { type: "boolean", description: "Prometheus text exposition format on stdout", default: false },
    watch: { type: "string", description: "refresh every SECONDS until Ctrl-C", valueHint: "SECONDS" },
    ...serveFlags,
    interval: { type: "string", description: "seconds between the two samples rates come from", default: "1", valueHint: "SECONDS" },
    timeout: { type: "string", description: "give up when the brokers have not answered within SECONDS", default: "10", valueHint: "SECONDS" },
    "status-window": { type: "string", description: "seconds of samples a group's status (OK/LAGGING/STALLED/STOPPED) is judged over", default: "60", valueHint: "SECONDS" },
    "fail-if-lag": { type: "string", description: "exit 1 when a group's lag is above N messages", valueHint: "N" },
    "fail-if-lag-seconds": { type: "string", description: "exit 1 when a group's oldest unconsumed record is older than S seconds", valueHint: "S" },
    "fail-if-under-replicated": { type: "boolean", description: "exit 1 when a reported topic has an under-replicated partition", default: false },
    "fail-if-group-empty": { type: "boolean", description: "exit 1 when a group has no members (or does not exist)", default: false },
    ...commonArgs,
  },
  async run({ args, rawArgs }) {
    const { config, secrets } = startCommand(args);
    if (args.json && args.prometheus) throw new UsageError("--json and --prometheus exclude each other");
    const watchSeconds = numberFlag(args.watch, "watch", { min: 0.1 });
    const serve = serveAddress(args);
    if (serve !== undefined && (watchSeconds !== undefined || args.json || args.prometheus)) {
      throw new UsageError("--serve answers /metrics itself: it takes no --watch, --json or --prometheus");
    }
    const thresholds: Thresholds = {
      lag: numberFlag(args["fail-if-lag"], "fail-if-lag", { integer: true, min: 0 }),
      lagSeconds: numberFlag(args["fail-if-lag-seconds"], "fail-if-lag-seconds", { min: 0 }),
      underReplicated: args["fail-if-under-replicated"],
      groupEmpty: args["fail-if-group-empty"],
    };
    const topics = repeatedFlag(rawArgs, "topic");
    const groups = repeatedFlag(rawArgs, "group");
    const observer = createObserver(createKafka(config, secrets, "metrics").kafka, {
      selection: {
        topics: topics.length ? topics : kstreamTopics(config),
        groups: groups.length ? groups : [config.clean.group_id],
        allTopics: args["all-topics"],
        allGroups: args["all-groups"],
        explicitTopics: topics.length > 0,
        explicitGroups: groups.length > 0,
      },
      intervalMs: numberFlag(args.interval, "interval", { min: 0 })! * 1000,
      timeoutMs: numberFlag(args.timeout, "timeout", { min: 0.1 })! * 1000,
      brokers: config.kafka.brokers,
      statusWindowMs: numberFlag(args["status-window"], "status-window", { min: 0 })! * 1000,
      thresholds,
    });
    try {
      if (serve !== undefined) {
        const server = serveMetrics(observer, { ...serve, thresholds: hasThresholds(thresholds) });
        log.info(`serving ${server.url}/metrics and ${server.url}/healthz until Ctrl-C`);
        await whenShutdown();
        await server.stop();
        return ExitCode.ok;
      }
      const tty = process.stdout.isTTY === true;
      const render = renderer({ json: args.json, prometheus: args.prometheus, tty, color: tty && !process.env.NO_COLOR, watching: watchSeconds !== undefined });
      const breaches = breachLog(watchSeconds !== undefined);
      const show = async (report: MetricsReport) => {
        await render(report);
        breaches.note(report);
      };
      if (watchSeconds === undefined) await show(await observer.observe());
      else await watchReports(observer, watchSeconds * 1000, show);
      return breaches.seen ? ExitCode.failure : ExitCode.ok;
    } finally {
      await observer.close();
    }
  },
});

/**
 * Breaches on stderr, one line each. A single report prints all of its own; a watch prints a
 * breach when it starts (not again every interval while it lasts) and says when it clears, and
 * remembers that one happened so the run exits 1 when it ends.
 */
function breachLog(watching: boolean) {
  let active = new Map<string, BreachReport>();
  let seen = false;
  return {
    get seen() {
      return seen;
    },
    note(report: MetricsReport) {
      const now = new Map(report.breaches.map((breach) => [breachKey(breach), breach]));
      for (const [key, breach] of now) if (!watching || !active.has(key)) log.error(`breach: ${breach.message}`);
      if (watching) {
        for (const [key, breach] of active) if (!now.has(key)) log.info(`cleared: ${breach.group !== null ? `group ${breach.group}` : `topic ${breach.topic}`} is back within --fail-if-${breach.check.replace(/_/g, "-")}`);
      }
      seen ||= now.size > 0;
      active = now;
    },
  };
}

interface RenderOptions {
  readonly json: boolean;
  readonly prometheus: boolean;
  readonly tty: boolean;
  readonly color: boolean;
  readonly watching: boolean;
}

/**
 * One report to stdout. Watching, a TTY is redrawn in place; a pipe gets one document per
 * interval: JSON as one line each (NDJSON), text forms separated by a blank line.
 */
function renderer(options: RenderOptions): (report: MetricsReport) => Promise<void> {
  const redraw = options.watching && options.tty ? "\x1b[H\x1b[2J" : "";
  return async (report) => {
    if (options.json) {
      await writeStdout(options.watching ? `${JSON.stringify(report)}\n` : toJson(report));
      return;
    }
    const text = options.prometheus ? formatPrometheus(report) : formatTable(report, { color: options.color });
    await writeStdout(redraw + text + (options.watching && !redraw ? "\n" : ""));
  };
}
