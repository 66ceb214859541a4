/**
 * The states of one producer run and the only moves between them, in one table. The run loop
 * moves through them; the state it ends in is the status the ledger records. Pure.
 *
 *   starting ─► publishing ─► draining ─► completed | interrupted   (draining says which)
 *      └────────────┴─────────────┴─────► failed
 *
 * Draining is the wait for the last request after the input ended, the limit was reached or a
 * signal arrived: a run is never settled while a request it sent may still be answered.
 */
export type RunState =
  | { readonly name: "starting" }
  | { readonly name: "publishing" }
  | { readonly name: "draining"; readonly ending: "completed" | "interrupted" }
  | { readonly name: "completed" }
  | { readonly name: "interrupted" }
  | { readonly name: "failed"; readonly error: string };

export type RunStateName = RunState["name"];
export type FinalState = Extract<RunState, { name: "completed" | "interrupted" | "failed" }>;

export const TRANSITIONS: { readonly [from in RunStateName]: readonly RunStateName[] } = {
  starting: ["publishing", "failed"],
  publishing: ["draining", "failed"],
  draining: ["completed", "interrupted", "failed"],
  completed: [],
  interrupted: [],
  failed: [],
};

/** The state after `next`; a move the table does not allow is a bug in the caller, and throws. */
export function moveTo<S extends RunState>(from: RunState, next: S): S {
  if (!TRANSITIONS[from.name].includes(next.name)) {
    throw new Error(`a produce run cannot go from ${from.name} to ${next.name}`);
  }
  return next;
}

/** Where a draining run ends once its last request is answered. */
export function drained(from: RunState): FinalState {
  if (from.name !== "draining") throw new Error(`a produce run cannot finish draining from ${from.name}`);
  return moveTo(from, { name: from.ending });
}

export function isFinal(state: RunState): state is FinalState {
  return TRANSITIONS[state.name].length === 0;
}
