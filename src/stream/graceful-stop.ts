/**
 * How a stream-clean run ends. `RunStop` holds why (a signal, caught up, or a failure: the first
 * one wins) and whether the loop is stopping; `stopGracefully` then commits what is processed
 * (unless the run failed, when every open cycle is dropped instead), leaves the group, and closes
 * the producers, in that order: a producer closed before its commit would lose the cycle.
 */
import type { Serial } from "./serial.ts";
import type { Slot } from "./slots.ts";

export type StoppedBy = "caught-up" | "signal";

export class RunStop {
  #stopping = false;
  #failure: unknown;
  #finish!: (reason: StoppedBy) => void;
  readonly #finished = new Promise<StoppedBy>((resolve) => {
    this.#finish = resolve;
  });

  /** True from the moment `stopped()` resolved: no new batch, restart or check starts. */
  get stopping(): boolean {
    return this.#stopping;
  }
  /** The first failure, or undefined for a run that stops cleanly. */
  get failure(): unknown {
    return this.#failure;
  }
  finish(reason: StoppedBy): void {
    this.#finish(reason);
  }
  /** Records the failure (the first one is kept) and stops the run. */
  fail(error: unknown): void {
    this.#failure ??= error;
    this.#finish("signal");
  }
  /** Resolves with why the run stops, once something asked it to. */
  async stopped(): Promise<StoppedBy> {
    const reason = await this.#finished;
    this.#stopping = true;
    return reason;
  }
}

export interface StoppingWorker {
  readonly serial: Serial;
  flushIfDue(now: number, force?: boolean): Promise<void>;
  abandon(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Graceful stop over the current slots (a worker still starting is waited for): commit each open
 * cycle, or drop it once the run has failed (a commit failing here fails the run, and the cycles
 * after it are dropped); then leave the group; then close every producer.
 */
export async function stopGracefully<W extends StoppingWorker>(slots: readonly Slot<W>[], stop: RunStop, leaveGroup: () => Promise<void>): Promise<void> {
  for (const slot of slots) {
    const worker = await slot.settled;
    if (!worker) continue;
    if (stop.failure === undefined) {
      await worker.serial.run(() => worker.flushIfDue(Date.now(), true)).catch((error) => stop.fail(error));
    } else {
      await worker.serial.run(() => worker.abandon());
    }
  }
  await leaveGroup();
  for (const slot of slots) {
    const worker = await slot.settled;
    await worker?.close().catch(() => undefined);
  }
}
