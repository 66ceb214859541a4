/**
 * The per-partition slots of the group loop: for each assigned partition, the worker being
 * started for it, and where that start stands. A slot is `starting` until its worker's start
 * settles, then `ready` (it takes batches) or `failed` (its start is tried again in a fresh slot);
 * a slot replaced by a rebalance or a restart is `retiring` from then on, whatever its start does.
 * Identity matters: a batch handed to a slot that is no longer its partition's current slot is
 * dropped, because the partition is fetched again from where the new worker starts.
 */

export type SlotState = "starting" | "ready" | "failed" | "retiring";

export class Slot<W> {
  readonly partition: number;
  /** The started worker, or undefined when its start failed; never rejects. */
  readonly settled: Promise<W | undefined>;
  #state: SlotState = "starting";
  #worker: W | undefined;
  #error: unknown;

  constructor(partition: number, starting: Promise<W>) {
    this.partition = partition;
    this.settled = starting.then(
      (worker) => {
        this.#worker = worker;
        if (this.#state === "starting") this.#state = "ready";
        return worker;
      },
      (error) => {
        this.#error = error;
        if (this.#state === "starting") this.#state = "failed";
        return undefined;
      },
    );
  }

  get state(): SlotState {
    return this.#state;
  }
  /** The worker while the slot is ready; undefined while starting, failed or retiring. */
  get worker(): W | undefined {
    return this.#state === "ready" ? this.#worker : undefined;
  }
  /** Why the start failed, in `failed`. */
  get error(): unknown {
    return this.#error;
  }

  retire(): void {
    this.#state = "retiring";
  }
}

export class Slots<W> {
  readonly #slots = new Map<number, Slot<W>>();

  /** A new current slot for `partition`; the one it replaces is retiring. */
  start(partition: number, starting: Promise<W>): Slot<W> {
    const slot = new Slot(partition, starting);
    this.#slots.get(partition)?.retire();
    this.#slots.set(partition, slot);
    return slot;
  }

  get(partition: number): Slot<W> | undefined {
    return this.#slots.get(partition);
  }

  isCurrent(slot: Slot<W>): boolean {
    return this.#slots.get(slot.partition) === slot;
  }

  /** Every current slot, retired and removed (a rebalance). */
  clear(): Slot<W>[] {
    const previous = this.all();
    for (const slot of previous) slot.retire();
    this.#slots.clear();
    return previous;
  }

  all(): Slot<W>[] {
    return [...this.#slots.values()];
  }

  /** The workers of the ready slots. */
  ready(): W[] {
    return this.all().flatMap((slot) => (slot.worker === undefined ? [] : [slot.worker]));
  }
}
