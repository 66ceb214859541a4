/**
 * The shapes of `kstream metrics`: a Sample is what one round of admin-API calls read at one
 * instant; a Report is what the user sees (the `--json` document, field names stable and
 * documented in the README), built from two samples and the timestamps of the oldest unconsumed
 * records.
 */

export interface BrokerSample {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface PartitionSample {
  readonly partition: number;
  /** -1 when the partition has no leader (offline). */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
  readonly low: number;
  readonly high: number;
}

export interface TopicSample {
  readonly name: string;
  readonly partitions: readonly PartitionSample[];
}

export interface MemberSample {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  /** topic -> partitions assigned to this member (empty when the assignment is not the consumer protocol's). */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
}

export interface CommittedSample {
  readonly topic: string;
  readonly partition: number;
  /** null when the group has committed nothing for this partition. */
  readonly committed: number | null;
}

export interface GroupSample {
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly members: readonly MemberSample[];
  readonly committed: readonly CommittedSample[];
}

export interface Sample {
  /** Milliseconds since the epoch, when the offsets were read. */
  readonly takenAt: number;
  readonly clusterId: string;
  readonly controllerId: number | null;
  readonly brokers: readonly BrokerSample[];
  /** The selected topics plus every topic a selected group consumes (lag needs their watermarks). */
  readonly topics: readonly TopicSample[];
  readonly groups: readonly GroupSample[];
}

/** "topic/partition" -> timestamp (ms) of the first record at or after the group's position. */
export type RecordTimestamps = ReadonlyMap<string, number>;

export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`;

// ---- the report (JSON shape; snake_case like the other --json outputs) ----

export interface BrokerReport {
  id: number;
  host: string;
  port: number;
  is_controller: boolean;
}

export interface PartitionReport {
  partition: number;
  leader: number;
  replicas: number[];
  in_sync_replicas: number[];
  offline_replicas: number[];
  under_replicated: boolean;
  low_watermark: number;
  high_watermark: number;
  messages: number;
  messages_in_per_second: number;
}

export interface TopicReport {
  name: string;
  partition_count: number;
  messages: number;
  messages_in_per_second: number;
  under_replicated_partitions: number;
  partitions: PartitionReport[];
}

export interface GroupPartitionReport {
  topic: string;
  partition: number;
  committed_offset: number | null;
  high_watermark: number;
  lag: number;
  /** Age of the oldest unconsumed record; 0 without lag; null when it could not be read. */
  lag_seconds: number | null;
  consumed_per_second: number;
  member_id: string | null;
}

export interface MemberReport {
  member_id: string;
  client_id: string;
  host: string;
  assignments: { topic: string; partitions: number[] }[];
}

/** OK, or what is wrong with a group, judged from the samples of the status window. */
export type GroupStatus = "OK" | "LAGGING" | "STALLED" | "STOPPED";
export const GROUP_STATUSES: readonly GroupStatus[] = ["OK", "LAGGING", "STALLED", "STOPPED"];

export interface GroupReport {
  group_id: string;
  state: string;
  status: GroupStatus;
  protocol_type: string;
  members: MemberReport[];
  lag: number;
  /** The lag went up between the two samples: consumption does not keep up. */
  lag_growing: boolean;
  lag_seconds_max: number | null;
  consumed_per_second: number;
  /** lag / consumed_per_second; null when nothing is being consumed (or nothing to catch up: 0). */
  catch_up_seconds: number | null;
  partitions: GroupPartitionReport[];
}

/** One `--fail-if-*` threshold crossed by one group or topic. */
export interface BreachReport {
  check: "lag" | "lag_seconds" | "under_replicated" | "group_empty";
  group: string | null;
  topic: string | null;
  /** The figure that crossed the line (messages, seconds, partitions; 0 members). */
  value: number;
  /** The line itself; null for yes/no checks. */
  threshold: number | null;
  message: string;
}

export interface MetricsReport {
  taken_at: string;
  interval_seconds: number;
  /** Seconds from the oldest sample the group statuses were judged from to this one. */
  status_window_seconds: number;
  cluster: { cluster_id: string; controller_id: number | null; brokers: BrokerReport[] };
  topics: TopicReport[];
  groups: GroupReport[];
  /** The thresholds this report crosses; empty when none is set or none is crossed. */
  breaches: BreachReport[];
}
