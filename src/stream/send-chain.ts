/**
 * The sends of one open transaction, strictly one after another, with a bound on how many wait.
 *
 * Invariant: one produce request at a time per transactional producer. kafkajs rolls a
 * partition's sequence numbers back when a request fails; a second request already in flight
 * would then reuse them, the broker would take it for a duplicate of the first and drop it, while
 * the first is sent again: records lost from staging and others written twice. Cleaning still
 * runs ahead while a send is in flight, up to `maxInFlight` sends queued (backpressure: every
 * message waiting for its send holds memory; a few keep the pipe full).
 *
 * A send that fails fails every send queued after it (they are never attempted); the failure
 * surfaces where the cycle awaits `settled()`, never as an unhandled rejection.
 */
export class SendChain {
  readonly #maxInFlight: number;
  #sends: Promise<void>[] = [];
  #unacknowledged = 0;

  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
  }

  /** Sends queued and not yet answered. */
  get inFlight(): number {
    return this.#unacknowledged;
  }

  /** Queues `send` behind the previous one. */
  push(send: () => Promise<void>): void {
    const previous = this.#sends.at(-1) ?? Promise.resolve();
    const next = previous.then(send);
    next.catch(() => undefined);
    this.#sends.push(next);
    this.#unacknowledged++;
    next.finally(() => this.#unacknowledged--).catch(() => undefined);
  }

  /** Waits for one of the latest sends to settle when `maxInFlight` are unanswered; never throws. */
  async room(): Promise<void> {
    if (this.#unacknowledged >= this.#maxInFlight) await Promise.race(this.#sends.slice(-this.#maxInFlight)).catch(() => undefined);
  }

  /** Resolves once every queued send is acknowledged; rejects with the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.#sends);
  }
}
