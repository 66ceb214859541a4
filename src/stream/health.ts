/**
 * Whether a stream-clean process is doing its work, for `GET /healthz`: 200 while it is a member
 * of its group and every partition assigned to it has a working cycle (idle, open or committing),
 * 503 with the reason otherwise: still joining the group, rejoining after the consumer crashed, a
 * partition whose worker is starting or failed to start, a cycle broken (its commit in doubt) or
 * failed, or the run stopping. A member with no partitions (more members than partitions) is
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
}

export interface HealthView {
  readonly stopping: boolean;
  readonly group: GroupView;
  readonly partitions: readonly PartitionView[];
}

export interface Health {
  readonly status: 200 | 503;
  /** Every problem, `; `-separated, in one line; absent when healthy. */
  readonly reason?: string;
  /** Per assigned partition: "working", or what is wrong with it. */
  readonly partitions: Readonly<Record<string, string>>;
}

const WORKING: ReadonlySet<CycleState> = new Set(["idle", "open", "committing"]);

export function judgeHealth(view: HealthView): Health {
  const problems: string[] = [];
  if (view.stopping) problems.push("stopping");
  if (view.group.state === "joining") problems.push("joining the consumer group (no partitions assigned yet)");
  if (view.group.state === "rejoining") problems.push(`rejoining the consumer group after: ${view.group.error}`);
  const partitions: Record<string, string> = {};
  for (const p of [...view.partitions].sort((a, b) => a.partition - b.partition)) {
    const problem = partitionProblem(p);
    partitions[p.partition] = problem === undefined ? "working" : oneLine(problem);
    if (problem) problems.push(`partition ${p.partition}: ${problem}`);
  }
  return problems.length === 0 ? { status: 200, partitions } : { status: 503, reason: oneLine(problems.join("; ")), partitions };
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ");

function partitionProblem(p: PartitionView): string | undefined {
  const why = p.error === undefined ? "" : `: ${p.error}`;
  switch (p.slot) {
    case "starting":
      return "starting (its transactional producer, committed offset and recovery)";
    case "failed":
      return `could not start, trying again${why}`;
    case "retiring":
      return "being replaced";
    case "ready":
      if (p.cycle === undefined || WORKING.has(p.cycle)) return undefined;
      if (p.cycle === "broken") return `commit in doubt, restarting from the committed offset${why}`;
      if (p.cycle === "failed") return `commit refused${why}`;
      return "closed";
  }
}

/** What a cycle shows the health check. */
export interface HealthCycle {
  readonly state: CycleState;
  readonly failure: Error | undefined;
}

/** The view of the current slots: each slot's state, its cycle's when ready, and the error behind either. */
export function partitionViews(slots: readonly Slot<HealthCycle>[]): PartitionView[] {
  return slots.map((slot) => {
    const cycle = slot.worker;
    if (slot.state === "failed") return { partition: slot.partition, slot: slot.state, error: describeError(slot.error) };
    if (!cycle) return { partition: slot.partition, slot: slot.state };
    const failure = cycle.failure === undefined ? {} : { error: describeError(cycle.failure) };
    return { partition: slot.partition, slot: slot.state, cycle: cycle.state, ...failure };
  });
}
