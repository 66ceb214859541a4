/**
 * Bounded patience with retriable Kafka failures (src/kafka/retry.ts): retriable causes only (also
 * when kafkajs wrapped them after spending its own retries), and only until failures have lasted
 * kafka.retry_limit since the last success.
 */
import { describe, expect, test } from "bun:test";
import { boundedRetries, retryWhileRetriable } from "../../../src/kafka/retry.ts";
import { setVerbosity } from "../../../src/ui/log.ts";

setVerbosity({ quiet: true });

const retriable = Object.assign(new Error("The coordinator is loading"), { name: "KafkaJSProtocolError", retriable: true });
const wrapped = Object.assign(new Error("retries exceeded"), { name: "KafkaJSNumberOfRetriesExceeded", retriable: false, cause: retriable });
const fatal = Object.assign(new Error("topic authorization failed"), { name: "KafkaJSProtocolError", retriable: false });

describe("bounded retries", () => {
  test("a retriable cause restarts, wrapped or not; a fatal one ends the run", () => {
    const restarts = boundedRetries(60_000);
    expect(restarts.allow(retriable)).toBe(true);
    expect(restarts.allow(wrapped)).toBe(true);
    expect(restarts.allow(fatal)).toBe(false);
  });

  test("failures lasting longer than the retry limit end the run; a rejoined group starts the clock again", () => {
    let clock = 0;
    const restarts = boundedRetries(10_000, () => clock);
    expect(restarts.allow(retriable)).toBe(true);
    clock = 9_000;
    expect(restarts.allow(retriable)).toBe(true);
    clock = 10_001;
    expect(restarts.allow(retriable)).toBe(false);
    restarts.recovered();
    clock = 50_000;
    expect(restarts.allow(retriable)).toBe(true);
  });

  test("retryWhileRetriable tries again after a retriable failure and gives a fatal one back at once", async () => {
    let calls = 0;
    expect(await retryWhileRetriable(async () => (++calls < 3 ? Promise.reject(retriable) : "done"), 60_000)).toBe("done");
    expect(calls).toBe(3);
    calls = 0;
    expect(await retryWhileRetriable(async () => { calls++; throw fatal; }, 60_000).catch((error) => error)).toBe(fatal);
    expect(calls).toBe(1);
  });
});
