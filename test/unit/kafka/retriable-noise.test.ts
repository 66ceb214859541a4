/**
 * kafkajs' WARN/ERROR lines sorted by src/kafka/retriable-noise.ts: a broker's retriable answer
 * retried a few times is routine (debug), the same answer to one request past the bound is one
 * warning per interval, and anything else is left alone.
 */
import { describe, expect, test } from "bun:test";
import { PERSISTENT_RETRIES, retriableErrorIn, retriableNoise } from "../../../src/kafka/retriable-noise.ts";

// The line a healthy transactional run logs while the previous commit's markers are written.
const CONCURRENT = "Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing";

describe("retriable broker answers in kafkajs logs", () => {
  test("CONCURRENT_TRANSACTIONS retried a few times is routine", () => {
    const sort = retriableNoise();
    for (let retryCount = 0; retryCount < PERSISTENT_RETRIES; retryCount++) expect(sort("Producer", CONCURRENT, { retryCount }, 1000).kind).toBe("routine");
  });

  test("the same answer past the bound gives one summarised warning, then none for a while, then one again", () => {
    const sort = retriableNoise();
    const first = sort("Producer", CONCURRENT, { retryCount: PERSISTENT_RETRIES }, 0);
    expect(first).toEqual({ kind: "persistent", summary: expect.stringContaining(`kafka Producer: the broker still answers CONCURRENT_TRANSACTIONS after ${PERSISTENT_RETRIES} retries`) });
    expect(sort("Producer", CONCURRENT, { retryCount: PERSISTENT_RETRIES + 1 }, 5_000).kind).toBe("routine");
    expect(sort("Producer", CONCURRENT, { retryCount: PERSISTENT_RETRIES + 2 }, 31_000).kind).toBe("persistent");
  });

  test("a retriable error named in the entry's error field counts too (admin retries log it there)", () => {
    expect(retriableErrorIn("Could not create topics", { error: "The coordinator is loading and hence can't process requests for this group" })).toBe("GROUP_LOAD_IN_PROGRESS");
  });

  test("errors the protocol does not call retriable, and lines that are no broker answer, are left as they are", () => {
    const sort = retriableNoise();
    expect(sort("Producer", "The producer attempted a transactional operation in an invalid state", { retryCount: 0 }, 0).kind).toBe("other");
    expect(sort("Consumer", "Crash: KafkaJSNumberOfRetriesExceeded: something", {}, 0).kind).toBe("other");
    expect(retriableErrorIn("Failed to send messages: Topic authorization failed", {})).toBeUndefined();
  });
});
