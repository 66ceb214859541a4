/**
 * Pure arithmetic of `kstream metrics`: from two samples taken some seconds apart (and the
 * timestamps of the oldest unconsumed records) to the report: message counts, rates, lag in
 * messages and in seconds, time to catch up, each group's status over the window of samples seen.
 * No I/O, so every figure is tested without a broker.
 */
import { type GroupObservation, groupStatus, observeGroup } from "./health.ts";
import {
  type GroupPartitionReport,
  type GroupReport,
  type GroupSample,
  type MetricsReport,
  partitionKey,
  type PartitionSample,
  type RecordTimestamps,
  type Sample,
  type TopicReport,
  type TopicSample,
} from "./types.ts";

export interface ReportInput {
  /** The earlier sample; without one every rate is 0 and no lag counts as growing. */
  readonly previous: Sample | undefined;
  readonly current: Sample;
  /** The topics to report (the sample also holds the topics of the selected groups). */
  readonly topics: readonly string[];
  readonly timestamps: RecordTimestamps;
  /** Earlier samples, oldest first, the group statuses are judged over; default: the previous one. */
  readonly window?: readonly Sample[];
}

export function buildReport({ previous, current, topics, timestamps, window }: ReportInput): MetricsReport {
  const history = [...(window ?? (previous ? [previous] : [])), current];
  const seconds = previous ? Math.max(0, (current.takenAt - previous.takenAt) / 1000) : 0;
  const topicsByName = new Map(current.topics.map((topic) => [topic.name, topic]));
  const previousTopics = new Map((previous?.topics ?? []).map((topic) => [topic.name, topic]));
  return {
    taken_at: new Date(current.takenAt).toISOString(),
    interval_seconds: round(seconds, 3),
    status_window_seconds: round((current.takenAt - history[0]!.takenAt) / 1000, 3),
    cluster: {
      cluster_id: current.clusterId,
      controller_id: current.controllerId,
      brokers: [...current.brokers]
        .sort((a, b) => a.id - b.id)
        .map((broker) => ({ ...broker, is_controller: broker.id === current.controllerId })),
    },
    topics: topics.flatMap((name) => {
      const topic = topicsByName.get(name);
      return topic ? [topicReport(topic, previousTopics.get(name), seconds)] : [];
    }),
    groups: current.groups.map((group) =>
      groupReport(group, previous?.groups.find((g) => g.groupId === group.groupId), current, previous, timestamps, seconds, observations(group.groupId, history)),
    ),
    breaches: [],
  };
}

/** The group as each sample of the window saw it (samples from before it existed are skipped). */
function observations(groupId: string, history: readonly Sample[]): GroupObservation[] {
  return history.flatMap((sample) => {
    const group = sample.groups.find((g) => g.groupId === groupId);
    return group ? [observeGroup(sample.takenAt, group.members.length, groupPositions(group, sample))] : [];
  });
}

function topicReport(topic: TopicSample, previous: TopicSample | undefined, seconds: number): TopicReport {
  const before = new Map((previous?.partitions ?? []).map((p) => [p.partition, p.high]));
  const partitions = [...topic.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p) => {
      const underReplicated = p.isr.length < p.replicas.length;
      return {
        partition: p.partition,
        leader: p.leader,
        replicas: [...p.replicas],
        in_sync_replicas: [...p.isr],
        offline_replicas: [...p.offline],
        under_replicated: underReplicated,
        low_watermark: p.low,
        high_watermark: p.high,
        messages: Math.max(0, p.high - p.low),
        messages_in_per_second: rate(before.get(p.partition), p.high, seconds),
      };
    });
  return {
    name: topic.name,
    partition_count: partitions.length,
    messages: sum(partitions.map((p) => p.messages)),
    messages_in_per_second: round(sum(partitions.map((p) => p.messages_in_per_second)), 3),
    under_replicated_partitions: partitions.filter((p) => p.under_replicated).length,
    partitions,
  };
}

interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  readonly committed: number | null;
  readonly high: number;
  readonly lag: number;
}

/**
 * Where the group stands on every partition it has committed to or has been assigned, within
 * the sample's topics. Nothing committed yet counts everything still in the partition as lag:
 * kstream's consumer starts from the beginning.
 */
export function groupPositions(group: GroupSample, sample: Sample): PartitionPosition[] {
  const partitions = new Map<string, PartitionSample & { topic: string }>();
  for (const topic of sample.topics) for (const p of topic.partitions) partitions.set(partitionKey(topic.name, p.partition), { ...p, topic: topic.name });
  const committed = new Map(group.committed.map((c) => [partitionKey(c.topic, c.partition), c.committed]));
  const keys = new Set(committed.keys());
  for (const member of group.members) {
    for (const [topic, assigned] of Object.entries(member.assignment)) for (const partition of assigned) keys.add(partitionKey(topic, partition));
  }
  const positions: PartitionPosition[] = [];
  for (const key of keys) {
    const p = partitions.get(key);
    if (!p) continue;
    const offset = committed.get(key) ?? null;
    // Below the low watermark records are gone (retention): the consumer will skip to low.
    const lag = p.high - Math.max(offset ?? p.low, p.low);
    positions.push({ topic: p.topic, partition: p.partition, committed: offset, high: p.high, lag: Math.max(0, lag) });
  }
  return positions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** The offset of the oldest record the group has not consumed yet, per lagging partition. */
export function oldestUnconsumed(group: GroupSample, sample: Sample): { topic: string; partition: number; offset: number }[] {
  const lows = new Map(sample.topics.flatMap((t) => t.partitions.map((p) => [partitionKey(t.name, p.partition), p.low] as const)));
  return groupPositions(group, sample)
    .filter((p) => p.lag > 0)
    .map((p) => {
      // Records below the low watermark are gone (retention): the oldest still there is at low.
      const low = lows.get(partitionKey(p.topic, p.partition)) ?? 0;
      return { topic: p.topic, partition: p.partition, offset: Math.max(p.committed ?? low, low) };
    });
}

function groupReport(
  group: GroupSample,
  previousGroup: GroupSample | undefined,
  current: Sample,
  previous: Sample | undefined,
  timestamps: RecordTimestamps,
  seconds: number,
  window: readonly GroupObservation[],
): GroupReport {
  const before = new Map((previousGroup?.committed ?? []).map((c) => [partitionKey(c.topic, c.partition), c.committed]));
  const owner = new Map<string, string>();
  for (const member of group.members) {
    for (const [topic, assigned] of Object.entries(member.assignment)) for (const partition of assigned) owner.set(partitionKey(topic, partition), member.memberId);
  }
  const partitions: GroupPartitionReport[] = groupPositions(group, current).map((p) => {
    const key = partitionKey(p.topic, p.partition);
    const timestamp = timestamps.get(key);
    const previousCommitted = before.get(key);
    return {
      topic: p.topic,
      partition: p.partition,
      committed_offset: p.committed,
      high_watermark: p.high,
      lag: p.lag,
      lag_seconds: p.lag === 0 ? 0 : timestamp === undefined ? null : round(Math.max(0, (current.takenAt - timestamp) / 1000), 3),
      consumed_per_second: p.committed === null || previousCommitted == null ? 0 : rate(previousCommitted, p.committed, seconds),
      member_id: owner.get(key) ?? null,
    };
  });
  const lag = sum(partitions.map((p) => p.lag));
  const previousLag = previousGroup && previous ? sum(groupPositions(previousGroup, previous).map((p) => p.lag)) : lag;
  const consumed = round(sum(partitions.map((p) => p.consumed_per_second)), 3);
  const ages = partitions.map((p) => p.lag_seconds);
  return {
    group_id: group.groupId,
    state: group.state,
    status: groupStatus(window),
    protocol_type: group.protocolType,
    members: group.members.map((member) => ({
      member_id: member.memberId,
      client_id: member.clientId,
      host: member.host,
      assignments: Object.entries(member.assignment)
        .map(([topic, assigned]) => ({ topic, partitions: [...assigned].sort((a, b) => a - b) }))
        .sort((a, b) => a.topic.localeCompare(b.topic)),
    })),
    lag,
    lag_growing: lag > previousLag,
    lag_seconds_max: lag === 0 ? 0 : maxOrNull(ages),
    consumed_per_second: consumed,
    catch_up_seconds: lag === 0 ? 0 : consumed > 0 ? round(lag / consumed, 1) : null,
    partitions,
  };
}

function rate(before: number | undefined, after: number, seconds: number): number {
  if (before === undefined || seconds <= 0) return 0;
  // A topic deleted and created again between samples starts over: no negative rates.
  return round(Math.max(0, after - before) / seconds, 3);
}

function maxOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : Math.max(...known);
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const round = (value: number, digits: number): number => Number(value.toFixed(digits));
