/**
 * Pure judgements over metrics, for cron, CI and dashboards: each group's status from the samples
 * seen so far (OK / LAGGING / STALLED / STOPPED), and the alert thresholds (`--fail-if-*`) turned
 * into breaches, one per group or topic that crosses a line. No I/O: tests feed samples and reports.
 */
import { type BreachReport, type GroupStatus, type MetricsReport, partitionKey } from "./types.ts";

/** What the status of one group is judged from, in one sample. */
export interface GroupObservation {
  readonly takenAt: number;
  readonly members: number;
  readonly lag: number;
  /** "topic/partition" -> committed offset (null: nothing committed). */
  readonly committed: ReadonlyMap<string, number | null>;
}

export function observeGroup(
  takenAt: number,
  members: number,
  positions: readonly { topic: string; partition: number; committed: number | null; lag: number }[],
): GroupObservation {
  return {
    takenAt,
    members,
    lag: positions.reduce((total, p) => total + p.lag, 0),
    committed: new Map(positions.map((p) => [partitionKey(p.topic, p.partition), p.committed])),
  };
}

/**
 * The status of a group over a window of observations, oldest first, the last one being now.
 * In order of precedence:
 * - STOPPED: no members now (nothing consumes, whatever the lag);
 * - STALLED: lag now, and no committed offset moved across the window (a consumer is there but
 *   makes no progress: stuck, or retrying forever);
 * - LAGGING: the lag now is above the lag at the start of the window (it does not keep up);
 * - OK otherwise. One observation alone can only be OK or STOPPED: movement needs two.
 */
export function groupStatus(window: readonly GroupObservation[]): GroupStatus {
  const now = window.at(-1);
  if (!now) throw new Error("groupStatus needs at least one observation");
  if (now.members === 0) return "STOPPED";
  const first = window[0]!;
  if (window.length < 2 || first === now) return "OK";
  if (now.lag > 0 && !committedMoved(first, now)) return "STALLED";
  if (now.lag > first.lag) return "LAGGING";
  return "OK";
}

function committedMoved(before: GroupObservation, after: GroupObservation): boolean {
  for (const [key, offset] of after.committed) if ((before.committed.get(key) ?? null) !== offset) return true;
  return false;
}

/** The `--fail-if-*` flags; an absent one is not checked. */
export interface Thresholds {
  /** Breach when a group's lag (messages, summed over its partitions) is above this. */
  readonly lag?: number;
  /** Breach when the oldest unconsumed record of a group is older than this many seconds. */
  readonly lagSeconds?: number;
  /** Breach for every reported topic with an under-replicated partition. */
  readonly underReplicated?: boolean;
  /** Breach for every selected group with no members, or that does not exist. */
  readonly groupEmpty?: boolean;
}

export const hasThresholds = (t: Thresholds): boolean => t.lag !== undefined || t.lagSeconds !== undefined || t.underReplicated === true || t.groupEmpty === true;

/**
 * Every breach of the thresholds in one report, groups first, each with a one-line message that
 * names the subject, the value and the line it crossed. `missingGroups` are selected groups the
 * cluster does not know (never started): empty as far as --fail-if-group-empty is concerned.
 */
export function findBreaches(report: MetricsReport, thresholds: Thresholds, missingGroups: readonly string[] = []): BreachReport[] {
  const breaches: BreachReport[] = [];
  for (const group of report.groups) {
    const subject = { group: group.group_id, topic: null };
    if (thresholds.lag !== undefined && group.lag > thresholds.lag) {
      breaches.push({ check: "lag", ...subject, value: group.lag, threshold: thresholds.lag, message: `group ${group.group_id}: lag ${group.lag} messages is above ${thresholds.lag} (--fail-if-lag)` });
    }
    // Unknown age (no record timestamp could be read) is not a breach: the lag check covers it.
    if (thresholds.lagSeconds !== undefined && group.lag_seconds_max !== null && group.lag_seconds_max > thresholds.lagSeconds) {
      breaches.push({
        check: "lag_seconds",
        ...subject,
        value: group.lag_seconds_max,
        threshold: thresholds.lagSeconds,
        message: `group ${group.group_id}: oldest unconsumed record is ${group.lag_seconds_max} s old, above ${thresholds.lagSeconds} s (--fail-if-lag-seconds)`,
      });
    }
    if (thresholds.groupEmpty && group.members.length === 0) {
      breaches.push({ check: "group_empty", ...subject, value: 0, threshold: null, message: `group ${group.group_id}: no members (state ${group.state}); nothing consumes (--fail-if-group-empty)` });
    }
  }
  if (thresholds.groupEmpty) {
    for (const group of missingGroups) {
      breaches.push({ check: "group_empty", group, topic: null, value: 0, threshold: null, message: `group ${group}: does not exist; nothing has ever consumed as it (--fail-if-group-empty)` });
    }
  }
  if (thresholds.underReplicated) {
    for (const topic of report.topics) {
      if (topic.under_replicated_partitions === 0) continue;
      const partitions = topic.partitions.filter((p) => p.under_replicated).map((p) => p.partition);
      breaches.push({
        check: "under_replicated",
        group: null,
        topic: topic.name,
        value: topic.under_replicated_partitions,
        threshold: null,
        message: `topic ${topic.name}: ${partitions.length} under-replicated partition${partitions.length === 1 ? "" : "s"} (${partitions.join(", ")}) (--fail-if-under-replicated)`,
      });
    }
  }
  return breaches;
}

/** A breach's identity across reports (its value may change while it lasts). */
export const breachKey = (breach: BreachReport): string => `${breach.check}:${breach.group ?? ""}:${breach.topic ?? ""}`;
