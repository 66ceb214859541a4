/**
 * kafkajs' own RequestQueue with the idle-timer patch: no timer while nothing is pending, and
 * requests held back by the in-flight limit or by throttling still go out when they may.
 */
import { afterEach, describe, expect, test } from "bun:test";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { installIdleRequestQueues, originalScheduleCheck } from "../../../src/kafka/request-queue-timer.ts";

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };
const queues: RequestQueue[] = [];

function queue(maxInFlightRequests: number | null = null): RequestQueue {
  const made = new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: "t", broker: "b:1", logger: quietLogger });
  queues.push(made);
  return made;
}

/** Pushes request `id`; resolves with its answer; `sent` records the order requests went out. */
function push(into: RequestQueue, id: number, sent: number[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    into.push({
      entry: { correlationId: id, apiKey: 0, apiName: "Produce", apiVersion: 3, resolve, reject } as never,
      expectResponse: true,
      sendRequest: () => sent.push(id),
    });
  });
}

const answer = (into: RequestQueue, id: number) => into.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });

/** Timer callbacks kafkajs' queue code runs within `ms`. */
async function timerFiresWithin(ms: number): Promise<number> {
  const original = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = Object.assign((handler: () => void, delay?: number) => {
    armed++;
    return original(handler, delay !== undefined && delay < 0 ? 0 : delay);
  }, original) as typeof setTimeout;
  try {
    await Bun.sleep(ms);
  } finally {
    globalThis.setTimeout = original;
  }
  return armed;
}

afterEach(() => {
  for (const made of queues.splice(0)) made.destroy();
});

describe("kafkajs' request queue, unpatched", () => {
  test("keeps re-arming its check timer after an answer, with nothing pending (what the patch stops)", async () => {
    const q = queue();
    // kafkajs' method on this queue alone, whether or not another test installed the patch.
    q.scheduleCheckPendingRequests = originalScheduleCheck;
    const sent: number[] = [];
    const answered = push(q, 1, sent);
    answer(q, 1);
    await answered;
    expect(await timerFiresWithin(50)).toBeGreaterThan(5);
  });
});

describe("kafkajs' request queue, with installIdleRequestQueues", () => {
  test("arms no timer after an answer when nothing is pending", async () => {
    installIdleRequestQueues();
    const q = queue();
    const sent: number[] = [];
    const answered = push(q, 1, sent);
    answer(q, 1);
    await answered;
    expect(q.throttleCheckTimeoutId).toBeNull();
    expect(await timerFiresWithin(50)).toBe(0);
  });

  test("a request held back by the in-flight limit goes out when the one before it is answered", async () => {
    installIdleRequestQueues();
    const q = queue(1);
    const sent: number[] = [];
    const first = push(q, 1, sent);
    const second = push(q, 2, sent);
    expect(sent).toEqual([1]);
    answer(q, 1);
    await first;
    expect(sent).toEqual([1, 2]);
    answer(q, 2);
    await second;
    expect(q.pending.length).toBe(0);
  });

  test("a request held back by throttling goes out once the throttle time has passed", async () => {
    installIdleRequestQueues();
    const q = queue();
    const sent: number[] = [];
    q.maybeThrottle(40);
    const held = push(q, 7, sent);
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await Bun.sleep(120);
    expect(sent).toEqual([7]);
    answer(q, 7);
    await held;
  });
});
