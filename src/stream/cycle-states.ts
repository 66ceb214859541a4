/**
 * The states of a partition cycle and the only transitions between them, in one table (the shape
 * of kafkajs' transactionStateMachine). PartitionCycle moves only through `transition`, so a step
 * taken in the wrong state is a loud bug, never a silently wrong offset.
 *
 *   idle ──begin──▶ open ──end──▶ committing ──committed──▶ idle
 *     ▲               │                 ├──retriable failure──▶ broken   (outcome unknown, files kept)
 *     │               │                 ├──fenced─────────────▶ fenced   (files removed, aborted)
 *     └───abandon─────┘                 └──refused for good───▶ failed   (files removed, aborted)
 *   any state ──close──▶ closed
 */

export type CycleState =
  /** No transaction: everything below the offset to commit is committed. */
  | "idle"
  /** A transaction is open: rows buffered, staging messages and dead letters sent or in flight. */
  | "open"
  /** The cycle is ending: sends awaited, Parquet renamed into place, offsets and commit sent. */
  | "committing"
  /** The commit failed retriably, its outcome unknown: the cycle takes no more work; its partition restarts. */
  | "broken"
  /**
   * The producer was fenced: another producer took the partition's transactional id (the group
   * gave the partition to another member, or this process was away), or the broker expired the
   * transaction. Never committed; the cycle takes no more work; the partition is left to the group.
   */
  | "fenced"
  /** The commit was refused for good (a full disk, a denied write): the cycle takes no more work; the run ends. */
  | "failed"
  /** The producer is disconnected. */
  | "closed";

export const VALID_TRANSITIONS: Readonly<Record<CycleState, readonly CycleState[]>> = {
  idle: ["open", "closed"],
  open: ["committing", "idle", "closed"],
  committing: ["idle", "broken", "fenced", "failed", "closed"],
  broken: ["closed"],
  fenced: ["closed"],
  failed: ["closed"],
  closed: [],
};

/** The next state, or an error naming the partition when the table does not allow the step. */
export function transition(from: CycleState, to: CycleState, partition: number): CycleState {
  if (!VALID_TRANSITIONS[from].includes(to)) throw new Error(`partition ${partition}: a cycle cannot go from ${from} to ${to}`);
  return to;
}

/** States in which a cycle takes no more records and ends no more cycles. */
export function isTerminal(state: CycleState): boolean {
  return state === "broken" || state === "fenced" || state === "failed" || state === "closed";
}
