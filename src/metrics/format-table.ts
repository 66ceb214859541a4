/**
 * The metrics report as text for a person: cluster, then each topic with its partitions, then
 * each consumer group with its members and per-partition lag. Thousands separators throughout;
 * with `color`, growing lag and a status other than OK in red, under-replicated partitions in
 * yellow; the thresholds crossed, if any, last.
 */
import { formatCount as count, formatTenths } from "../ui/progress.ts";
import { renderTable } from "../ui/table.ts";
import type { GroupReport, MetricsReport, TopicReport } from "./types.ts";

export interface TableFormatOptions {
  readonly color: boolean;
}

export function formatTable(report: MetricsReport, options: TableFormatOptions): string {
  const paint = painter(options.color);
  const { cluster } = report;
  const clusterBlock = [
    `cluster ${cluster.cluster_id}  controller ${cluster.controller_id ?? "none"}  ${plural(cluster.brokers.length, "broker")}  (taken ${report.taken_at}, rates over ${report.interval_seconds.toFixed(1)} s)`,
    renderTable(
      ["broker", "address", "role"],
      cluster.brokers.map((b) => [String(b.id), `${b.host}:${b.port}`, b.is_controller ? "controller" : ""]),
      { alignRight: [true], indent: "  " },
    ),
  ].join("\n");
  const blocks = [clusterBlock, ...report.topics.map((topic) => formatTopic(topic, paint)), ...report.groups.map((group) => formatGroup(group, paint))];
  if (report.breaches.length > 0) blocks.push([paint.red(`${plural(report.breaches.length, "breach")}:`), ...report.breaches.map((b) => `  ${b.message}`)].join("\n"));
  return `${blocks.join("\n\n")}\n`;
}

function formatTopic(topic: TopicReport, paint: Painter): string {
  const underReplicated = topic.under_replicated_partitions > 0 ? paint.yellow(`  ${topic.under_replicated_partitions} under-replicated`) : "";
  const heading = `topic ${topic.name}  ${plural(topic.partition_count, "partition")}  ${count(topic.messages)} messages  ${perSecond(topic.messages_in_per_second)} in${underReplicated}`;
  const rows = topic.partitions.map((p) => [
    String(p.partition),
    p.leader < 0 ? paint.yellow("none") : String(p.leader),
    p.replicas.join(","),
    p.under_replicated ? paint.yellow(p.in_sync_replicas.join(",") || "-") : p.in_sync_replicas.join(","),
    count(p.low_watermark),
    count(p.high_watermark),
    count(p.messages),
    rateText(p.messages_in_per_second),
  ]);
  const table = renderTable(["partition", "leader", "replicas", "isr", "low", "high", "messages", "in/s"], rows, {
    alignRight: [true, true, false, false, true, true, true, true],
    indent: "  ",
  });
  return `${heading}\n${table}`;
}

function formatGroup(group: GroupReport, paint: Painter): string {
  const lag = group.lag_growing ? paint.red(`${count(group.lag)} (growing)`) : count(group.lag);
  const heading = [
    `group ${group.group_id}`,
    group.status === "OK" ? group.status : paint.red(group.status),
    group.state,
    plural(group.members.length, "member"),
    `lag ${lag}`,
    `oldest unconsumed ${age(group.lag_seconds_max)}`,
    `${perSecond(group.consumed_per_second)} consumed`,
    `catch-up ${group.lag === 0 ? "-" : group.catch_up_seconds === null ? "never at this rate" : age(group.catch_up_seconds)}`,
  ].join("  ");
  const members = group.members.map(
    (m) => `  member ${m.client_id}@${m.host} ${m.member_id}: ${m.assignments.map((a) => `${a.topic}[${a.partitions.join(",")}]`).join(" ") || "no partitions"}`,
  );
  const rows = group.partitions.map((p) => [
    p.topic,
    String(p.partition),
    p.committed_offset === null ? "-" : count(p.committed_offset),
    count(p.high_watermark),
    group.lag_growing && p.lag > 0 ? paint.red(count(p.lag)) : count(p.lag),
    age(p.lag_seconds),
    rateText(p.consumed_per_second),
    p.member_id ?? "-",
  ]);
  const table = rows.length
    ? renderTable(["topic", "partition", "committed", "high", "lag", "lag age", "consumed/s", "member"], rows, {
        alignRight: [false, true, true, true, true, true, true, false],
        indent: "  ",
      })
    : "  (no committed offsets and no assigned partitions)";
  return [heading, ...members, table].join("\n");
}

interface Painter {
  red(text: string): string;
  yellow(text: string): string;
}

function painter(color: boolean): Painter {
  const wrap = (code: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[39m` : text);
  return { red: wrap(31), yellow: wrap(33) };
}

const plural = (n: number, noun: string): string => `${count(n)} ${noun}${n === 1 ? "" : /(s|ch)$/.test(noun) ? "es" : "s"}`;
const rateText = formatTenths;
const perSecond = (value: number): string => `${rateText(value)}/s`;

/** Seconds as a short duration: "-" unknown, "0.4s", "12s", "3m05s", "2h07m". */
export function age(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}
