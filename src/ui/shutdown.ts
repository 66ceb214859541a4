/**
 * Graceful shutdown (SPEC.md: SIGINT/SIGTERM finish or abandon the current batch, flush, commit
 * what is durable, exit 0). The first signal aborts `shutdownSignal`, which long-running jobs
 * watch; a second signal is the user insisting, and main.ts then exits 130/143 at once.
 */
const controller = new AbortController();

export const shutdownSignal: AbortSignal = controller.signal;

/** Installs the handlers; `onForced` runs on the second signal with the conventional exit code. */
export function installSignalHandlers(onForced: (exitCode: number) => void): void {
  const handle = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) onForced(signal === "SIGINT" ? 130 : 143);
    else controller.abort(signal);
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

/** A promise that settles when shutdown is requested, to race against waits. */
export function whenShutdown(): Promise<void> {
  if (shutdownSignal.aborted) return Promise.resolve();
  return new Promise((resolve) => shutdownSignal.addEventListener("abort", () => resolve(), { once: true }));
}
