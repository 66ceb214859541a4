/**
 * At most one request in flight while the caller reads the next batch: that keeps the idempotent
 * producer's sequence numbers simple and still overlaps parsing with the network. The next request
 * is prepared (its records encoded and compressed) before the one in flight is waited for, so only
 * the broker's part of a request stays on the path. Under --rate a request goes when its last
 * message is due, and is prepared then. A request's failure surfaces on the next send or drain,
 * never as an unhandled rejection. The request itself and the clock are ports.
 */
import { dueAtMs } from "./pace.ts";

export interface InFlight<M> {
  /** Messages handed to the producer and not yet answered. */
  readonly inFlight: number;
  /** Waits for the request in flight (throwing its failure), then for the messages' due time, then sends them. */
  send(messages: M[]): Promise<void>;
  /** Waits for the request in flight; throws its failure. */
  drain(): Promise<void>;
}

export interface Pacing {
  readonly rate: number;
  /** The run's start, on `now`'s clock: message n is due `dueAtMs(n, rate)` after it. */
  readonly startedAt: number;
  /** Messages acknowledged so far: the index of the next one. */
  readonly acknowledged: () => number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export function oneInFlight<M>(sendNow: (messages: M[]) => Promise<void>, pacing: Pacing, prepare?: (messages: M[]) => void): InFlight<M> {
  const now = pacing.now ?? (() => performance.now());
  const sleep = pacing.sleep ?? ((ms: number) => Bun.sleep(ms));
  let pending: Promise<void> | undefined;
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    async send(messages) {
      // Under a rate, the records' timestamps are taken when they are due, not ahead of it.
      if (prepare && pacing.rate === 0) prepare(messages);
      if (pending) await pending;
      const wait = pacing.startedAt + dueAtMs(pacing.acknowledged() + messages.length - 1, pacing.rate) - now();
      if (wait > 0) await sleep(wait);
      inFlight = messages.length;
      pending = sendNow(messages).finally(() => {
        inFlight = 0;
      });
      pending.catch(() => undefined);
    },
    async drain() {
      if (pending) await pending;
    },
  };
}
