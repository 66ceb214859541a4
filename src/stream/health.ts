/**
 * Whether a stream-clean process is doing its work, for `GET /healthz`: 200 while it is a member
 * of its group and every partition assigned to it has a working cycle (idle; open, for no longer
 * than clean.file_max_age and a grace; committing, for no longer than the grace), 503 with the
 * reason otherwise: still joining the group, rejoining after the consumer crashed, a partition
 * whose worker is starting or failed to start, no fetch answered for a while (the brokers are
 * away: kafkajs retries rather than crashes, so nothing else may show it), a cycle stuck (its sends or its commit retried
 * while the brokers are away), broken (its commit in doubt), fenced or failed, or the run stopping. A member with no partitions (more members than partitions) is
 * healthy: nothing of its work is undone. Pure: the view is read from the slots by `partitionViews`.
 */
import { describeError } from "../errors.ts";
import type { CycleState } from "./cycle-states.ts";
import type { Slot, SlotState } from "./slots.ts";

/** Where the consumer stands in its group. */
export type GroupView =
  /** Before the first assignment. */
  | { readonly state: "joining" }
  | { readonly state: "member" }
  /** The consumer crashed on a retriable error and kafkajs restarts it; until it is assigned again. */
  | { readonly state: "rejoining"; readonly error: string };

export interface PartitionView {
  readonly partition: number;
  readonly slot: SlotState;
  /** The cycle's state, when the slot is ready. */
  readonly cycle?: CycleState;
  /** Why the slot's start failed, or why the cycle takes no more work. */
  readonly error?: string;
  /** Milliseconds the cycle has been in its state. */
  readonly stateForMs?: number;
}

export interface HealthView {
  /** clean.file_max_age: an open cycle older than this (and the grace) is not ending as it should. */
  readonly fileMaxAgeMs: number;
  readonly stopping: boolean;
  readonly group: GroupView;
  /** Milliseconds since the consumer's last fetch was answered (an empty one too); undefined before the first. */
  readonly sinceLastFetchMs?: number;
  readonly partitions: readonly PartitionView[];
}

export interface Health {
  readonly status: 200 | 503;
  /** Every problem, `; `-separated, in one line; absent when healthy. */
  readonly reason?: string;
  /** Per assigned partition: "working", or what is wrong with it. */
  readonly partitions: Readonly<Record<string, string>>;
}

/**
 * How long a cycle may be committing, or open past clean.file_max_age, or the consumer go without
 * a fetch answered, before it counts as stuck.
 * A commit takes well under a second (a Parquet write and fsync, two requests); longer means the
 * brokers are retried (kafka.retry_limit), not that the work is done.
 */
export const STUCK_AFTER_MS = 10_000;

export function judgeHealth(view: HealthView): Health {
  const problems: string[] = [];
  if (view.stopping) problems.push("stopping");
  if (view.group.state === "joining") problems.push("joining the consumer group (no partitions assigned yet)");
  if (view.group.state === "rejoining") problems.push(`rejoining the consumer group after: ${view.group.error}`);
  // A fetch returns at least every fetch wait (500 ms) even with nothing to read: silence is an outage.
  if (view.group.state === "member" && view.partitions.length > 0 && (view.sinceLastFetchMs ?? 0) > STUCK_AFTER_MS) {
    problems.push(`no fetch answered for ${seconds(view.sinceLastFetchMs!)} (the brokers are being retried)`);
  }
  const partitions: Record<string, string> = {};
  for (const p of [...view.partitions].sort((a, b) => a.partition - b.partition)) {
    const problem = partitionProblem(p, view.fileMaxAgeMs);
    partitions[p.partition] = problem === undefined ? "working" : oneLine(problem);
    if (problem) problems.push(`partition ${p.partition}: ${problem}`);
  }
  return problems.length === 0 ? { status: 200, partitions } : { status: 503, reason: oneLine(problems.join("; ")), partitions };
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ");

function partitionProblem(p: PartitionView, fileMaxAgeMs: number): string | undefined {
  const why = p.error === undefined ? "" : `: ${p.error}`;
  switch (p.slot) {
    case "starting":
      return "starting (its transactional producer, committed offset and recovery)";
    case "failed":
      return `could not start, trying again${why}`;
    case "retiring":
      return "being replaced";
    case "ready":
      if (p.cycle === undefined || p.cycle === "idle") return undefined;
      if (p.cycle === "open") return (p.stateForMs ?? 0) > fileMaxAgeMs + STUCK_AFTER_MS ? `open for ${seconds(p.stateForMs!)}, past clean.file_max_age: its sends or its end are being retried` : undefined;
      if (p.cycle === "committing") return (p.stateForMs ?? 0) > STUCK_AFTER_MS ? `committing for ${seconds(p.stateForMs!)}: its commit is being retried` : undefined;
      if (p.cycle === "broken") return `commit in doubt, restarting from the committed offset${why}`;
      if (p.cycle === "fenced") return `fenced by another owner of the partition, left to the group${why}`;
      if (p.cycle === "failed") return `commit refused${why}`;
      return "closed";
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** What a cycle shows the health check. */
export interface HealthCycle {
  readonly state: CycleState;
  readonly stateSince: number;
  readonly failure: Error | undefined;
}

/** The view of the current slots at `now`: each slot's state, its cycle's when ready (and for how long), and the error behind either. */
export function partitionViews(slots: readonly Slot<HealthCycle>[], now: number): PartitionView[] {
  return slots.map((slot) => {
    const cycle = slot.worker;
    if (slot.state === "failed") return { partition: slot.partition, slot: slot.state, error: describeError(slot.error) };
    if (!cycle) return { partition: slot.partition, slot: slot.state };
    const failure = cycle.failure === undefined ? {} : { error: describeError(cycle.failure) };
    return { partition: slot.partition, slot: slot.state, cycle: cycle.state, stateForMs: now - cycle.stateSince, ...failure };
  });
}
