/**
 * Patience with retriable Kafka failures, bounded by kafka.retry_limit: a coordinator or leader
 * that moved (its broker died), metadata not yet everywhere on a fresh cluster. kafkajs retries
 * single requests; these cover the steps kstream takes itself (reading offsets, restarting the
 * consumer), so an outage shorter than the limit is ridden out and a longer one ends the run.
 */
import { isRetriableCause } from "../errors.ts";
import { log } from "../ui/log.ts";

/**
 * Counts failures from the first one since the last success: allow() says whether to try again
 * (retriable cause, and failing for no longer than `limitMs`); recovered() resets the clock.
 */
export function boundedRetries(limitMs: number, now: () => number = Date.now) {
  let failingSince: number | undefined;
  return {
    allow(error: unknown): boolean {
      if (!isRetriable(error)) return false;
      failingSince ??= now();
      if (now() - failingSince <= limitMs) return true;
      log.warn(`kafka has failed for longer than kafka.retry_limit (${Math.round(limitMs / 1000)} s); giving up`);
      return false;
    },
    recovered(): void {
      failingSince = undefined;
    },
  };
}

/** kafkajs marks retriable errors; once its own retries are spent it wraps the cause in KafkaJSNumberOfRetriesExceeded. */
export const isRetriable = isRetriableCause;

/** Runs `work` again after a retriable failure, with a growing pause, until `limitMs` has passed. */
export async function retryWhileRetriable<T>(work: () => Promise<T>, limitMs: number): Promise<T> {
  const failures = boundedRetries(limitMs);
  for (let wait = 200; ; wait = Math.min(wait * 2, 3_000)) {
    try {
      return await work();
    } catch (error) {
      if (!failures.allow(error)) throw error;
      log.debug(`retrying after: ${(error as Error).message}`);
      await Bun.sleep(wait);
    }
  }
}
