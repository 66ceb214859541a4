/**
 * When stream-clean lets kafkajs restart its consumer: retriable causes only (also when kafkajs
 * wrapped them after spending its own retries), and only until failures have lasted
 * kafka.retry_limit since the group last worked.
 */
import { describe, expect, test } from "bun:test";
import { boundedRestarts } from "../../../src/stream/clean-stream.ts";
import { setVerbosity } from "../../../src/ui/log.ts";

setVerbosity({ quiet: true });

const retriable = Object.assign(new Error("The coordinator is loading"), { name: "KafkaJSProtocolError", retriable: true });
const wrapped = Object.assign(new Error("retries exceeded"), { name: "KafkaJSNumberOfRetriesExceeded", retriable: false, cause: retriable });
const fatal = Object.assign(new Error("topic authorization failed"), { name: "KafkaJSProtocolError", retriable: false });

describe("consumer restarts", () => {
  test("a retriable cause restarts, wrapped or not; a fatal one ends the run", () => {
    const restarts = boundedRestarts(60_000);
    expect(restarts.allow(retriable)).toBe(true);
    expect(restarts.allow(wrapped)).toBe(true);
    expect(restarts.allow(fatal)).toBe(false);
  });

  test("failures lasting longer than the retry limit end the run; a rejoined group starts the clock again", () => {
    let clock = 0;
    const restarts = boundedRestarts(10_000, () => clock);
    expect(restarts.allow(retriable)).toBe(true);
    clock = 9_000;
    expect(restarts.allow(retriable)).toBe(true);
    clock = 10_001;
    expect(restarts.allow(retriable)).toBe(false);
    restarts.recovered();
    clock = 50_000;
    expect(restarts.allow(retriable)).toBe(true);
  });
});
