/**
 * The states of a clean worker as the main thread sees it, and the only transitions between them
 * (the pattern of cycle-states.ts). A request to a worker that is not `starting` or `ready` is
 * refused with the worker's failure at once, so nothing waits on a thread that is gone.
 *
 *   starting ──ready──▶ ready
 *      │                  │
 *      └──error, exit─────┴──▶ failed   (every request in flight rejected with a WorkerError)
 *   any state ──close──▶ closed          (terminated by the run's end)
 */

export type WorkerState =
  /** Spawned; requests are queued by the thread until its module has loaded. */
  | "starting"
  /** Loaded and answering. */
  | "ready"
  /** An uncaught error, an unreadable message or an exit: it answers nothing more. */
  | "failed"
  /** Terminated on purpose. */
  | "closed";

export const WORKER_TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ["ready", "failed", "closed"],
  ready: ["failed", "closed"],
  failed: ["closed"],
  closed: [],
};

/** The next state, or an error when the table does not allow the step. */
export function workerTransition(from: WorkerState, to: WorkerState): WorkerState {
  if (!WORKER_TRANSITIONS[from].includes(to)) throw new Error(`a clean worker cannot go from ${from} to ${to}`);
  return to;
}

/** States in which a worker takes requests. */
export function takesRequests(state: WorkerState): boolean {
  return state === "starting" || state === "ready";
}
