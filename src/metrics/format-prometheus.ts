/**
 * The metrics report in the Prometheus text exposition format (prometheus/text.ts writes it), all
 * gauges, names in the `kstream_<subject>_<what>` style of kafka_exporter. Unknown values (lag in
 * seconds that could not be read) are left out rather than written as NaN. A group's status is a
 * state set (one sample per status, 1 for the current one), so alerts can match
 * `kstream_consumergroup_status{status="STALLED"} == 1`.
 */
import { type Family, formatFamilies } from "../prometheus/text.ts";
import { GROUP_STATUSES, type MetricsReport } from "./types.ts";

export { PROMETHEUS_CONTENT_TYPE } from "../prometheus/text.ts";

export function formatPrometheus(report: MetricsReport): string {
  const { cluster, topics, groups, breaches } = report;
  const partitions = topics.flatMap((t) => t.partitions.map((p) => ({ labels: { topic: t.name, partition: p.partition }, p })));
  const groupPartitions = groups.flatMap((g) => g.partitions.map((p) => ({ labels: { group: g.group_id, topic: p.topic, partition: p.partition }, p })));
  const families: Family[] = [
    { name: "kstream_up", help: "1 when the brokers answered the admin requests of this report", samples: [[{}, 1]] },
    { name: "kstream_cluster_brokers", help: "Brokers in the cluster", samples: [[{ cluster_id: cluster.cluster_id }, cluster.brokers.length]] },
    { name: "kstream_cluster_controller_id", help: "Node id of the active controller (-1 when none)", samples: [[{ cluster_id: cluster.cluster_id }, cluster.controller_id ?? -1]] },
    {
      name: "kstream_broker_info",
      help: "One sample per broker, always 1; its labels say where it listens and whether it is the controller",
      samples: cluster.brokers.map((b) => [{ broker: b.id, address: `${b.host}:${b.port}`, controller: String(b.is_controller) }, 1]),
    },
    { name: "kstream_topic_partitions", help: "Partitions of the topic", samples: topics.map((t) => [{ topic: t.name }, t.partition_count]) },
    { name: "kstream_topic_messages", help: "Messages in the topic (sum over partitions of high minus low watermark)", samples: topics.map((t) => [{ topic: t.name }, t.messages]) },
    {
      name: "kstream_topic_messages_in_per_second",
      help: "Messages written to the topic per second, from two samples of the high watermarks",
      samples: topics.map((t) => [{ topic: t.name }, t.messages_in_per_second]),
    },
    {
      name: "kstream_topic_under_replicated_partitions",
      help: "Partitions of the topic with fewer in-sync replicas than replicas",
      samples: topics.map((t) => [{ topic: t.name }, t.under_replicated_partitions]),
    },
    { name: "kstream_topic_partition_low_watermark", help: "Earliest offset still in the partition", samples: partitions.map(({ labels, p }) => [labels, p.low_watermark]) },
    { name: "kstream_topic_partition_high_watermark", help: "Offset the next message written to the partition gets", samples: partitions.map(({ labels, p }) => [labels, p.high_watermark]) },
    { name: "kstream_topic_partition_messages", help: "Messages in the partition (high minus low watermark)", samples: partitions.map(({ labels, p }) => [labels, p.messages]) },
    {
      name: "kstream_topic_partition_messages_in_per_second",
      help: "Messages written to the partition per second, from two samples of its high watermark",
      samples: partitions.map(({ labels, p }) => [labels, p.messages_in_per_second]),
    },
    { name: "kstream_topic_partition_leader", help: "Node id of the partition's leader (-1 when offline)", samples: partitions.map(({ labels, p }) => [labels, p.leader]) },
    { name: "kstream_topic_partition_replicas", help: "Replicas of the partition", samples: partitions.map(({ labels, p }) => [labels, p.replicas.length]) },
    { name: "kstream_topic_partition_in_sync_replicas", help: "In-sync replicas of the partition", samples: partitions.map(({ labels, p }) => [labels, p.in_sync_replicas.length]) },
    { name: "kstream_topic_partition_under_replicated", help: "1 when the partition has fewer in-sync replicas than replicas", samples: partitions.map(({ labels, p }) => [labels, p.under_replicated]) },
    { name: "kstream_consumergroup_state", help: "1 for the group's current state (Stable, Empty, PreparingRebalance, ...)", samples: groups.map((g) => [{ group: g.group_id, state: g.state }, 1]) },
    {
      name: "kstream_consumergroup_status",
      help: "1 for the group's status over the status window (OK, LAGGING, STALLED, STOPPED), 0 for the others",
      samples: groups.flatMap((g) => GROUP_STATUSES.map((status) => [{ group: g.group_id, status }, g.status === status] as const)),
    },
    { name: "kstream_consumergroup_members", help: "Members of the consumer group", samples: groups.map((g) => [{ group: g.group_id }, g.members.length]) },
    {
      name: "kstream_consumergroup_current_offset",
      help: "Offset the group has committed for the partition (absent when it committed none)",
      samples: groupPartitions.map(({ labels, p }) => [labels, p.committed_offset]),
    },
    { name: "kstream_consumergroup_lag", help: "Messages in the partition the group has not consumed yet", samples: groupPartitions.map(({ labels, p }) => [labels, p.lag]) },
    {
      name: "kstream_consumergroup_lag_seconds",
      help: "Age of the oldest record the group has not consumed yet (now minus its timestamp); 0 without lag",
      samples: groupPartitions.map(({ labels, p }) => [labels, p.lag_seconds]),
    },
    { name: "kstream_consumergroup_lag_sum", help: "Messages the group has not consumed yet, over all its partitions", samples: groups.map((g) => [{ group: g.group_id }, g.lag]) },
    {
      name: "kstream_consumergroup_lag_seconds_max",
      help: "Age of the oldest record the group has not consumed yet, over all its partitions",
      samples: groups.map((g) => [{ group: g.group_id }, g.lag_seconds_max]),
    },
    {
      name: "kstream_consumergroup_consumed_per_second",
      help: "Messages the group consumed per second, from two samples of its committed offsets",
      samples: groups.map((g) => [{ group: g.group_id }, g.consumed_per_second]),
    },
    {
      name: "kstream_consumergroup_catch_up_seconds",
      help: "Estimated seconds until the group has no lag, at its current consumption rate (absent when it consumes nothing)",
      samples: groups.map((g) => [{ group: g.group_id }, g.catch_up_seconds]),
    },
    { name: "kstream_breaches", help: "Thresholds (--fail-if-*) this report crosses; 0 when none is set or none is crossed", samples: [[{}, breaches.length]] },
    {
      name: "kstream_breach",
      help: "One sample per threshold crossed, always 1; check is lag, lag_seconds, under_replicated or group_empty",
      samples: breaches.map((b) => [{ check: b.check, group: b.group ?? "", topic: b.topic ?? "" }, 1]),
    },
  ];
  return formatFamilies(families);
}
