/**
 * Which of kafkajs' WARN/ERROR log lines are routine: a broker's retriable answer (the protocol
 * says a retry may succeed, e.g. CONCURRENT_TRANSACTIONS while the previous commit's markers are
 * written, GROUP_LOAD_IN_PROGRESS, NOT_LEADER_OR_FOLLOWER after a leader move) that kafkajs
 * retries by itself. A healthy run meets those all the time, so they are debug. The same answer
 * still coming back after PERSISTENT_RETRIES retries of one request is no longer routine: one
 * summarised warning says so, at most every REPEAT_MS per kind, so a person sees why it is slow.
 */
import { errorCodes } from "kafkajs/src/protocol/error.js";

/** kafkajs backs off 300 ms doubling: five retries is about 9 s of one request not getting through. */
export const PERSISTENT_RETRIES = 5;
const REPEAT_MS = 30_000;

const RETRIABLE = errorCodes.filter((error) => error.retriable);

/** The retriable protocol error a log line reports (its message, or its `error` field), if any. */
export function retriableErrorIn(message: string, extra: Readonly<Record<string, unknown>>): string | undefined {
  const text = `${message} ${typeof extra.error === "string" ? extra.error : ""}`;
  return RETRIABLE.find((error) => text.includes(error.message))?.type;
}

export type Verdict = { readonly kind: "routine" } | { readonly kind: "persistent"; readonly summary: string } | { readonly kind: "other" };

/**
 * Sorts kafkajs' WARN/ERROR lines: routine (debug), persistent (one warning now), other (as is).
 * Stateful only to keep one warning per kind and interval; `now` is passed in for the tests.
 */
export function retriableNoise() {
  const warnedAt = new Map<string, number>();
  return (namespace: string, message: string, extra: Readonly<Record<string, unknown>>, now: number): Verdict => {
    const type = retriableErrorIn(message, extra);
    if (!type) return { kind: "other" };
    const retries = typeof extra.retryCount === "number" ? extra.retryCount : 0;
    const key = `${namespace}:${type}`;
    if (retries < PERSISTENT_RETRIES || now - (warnedAt.get(key) ?? -Infinity) < REPEAT_MS) return { kind: "routine" };
    warnedAt.set(key, now);
    return { kind: "persistent", summary: `kafka${namespace ? ` ${namespace}` : ""}: the broker still answers ${type} after ${retries} retries (${message}); retrying, for up to kafka.retry_limit` };
  };
}
