import { describe, expect, test } from "bun:test";
import { oneInFlight } from "../../../src/produce/in-flight.ts";

/** A request that stays open until its test answers it. */
function heldRequests() {
  const started: { messages: number[]; answer: () => void; fail: (error: Error) => void }[] = [];
  const sendNow = (messages: number[]) =>
    new Promise<void>((resolve, reject) => started.push({ messages, answer: resolve, fail: reject }));
  return { sendNow, started };
}

const unpaced = { rate: 0, startedAt: 0, acknowledged: () => 0 };

describe("one request in flight", () => {
  test("a request is sent while the caller goes on, and the next waits until it is answered", async () => {
    const { sendNow, started } = heldRequests();
    const requests = oneInFlight(sendNow, unpaced);
    await requests.send([1, 2]);
    expect(requests.inFlight).toBe(2);
    let secondSent = false;
    const second = requests.send([3]).then(() => (secondSent = true));
    await Bun.sleep(1);
    expect(started).toHaveLength(1);
    expect(secondSent).toBe(false);
    started[0]!.answer();
    await second;
    expect(started.map((request) => request.messages)).toEqual([[1, 2], [3]]);
    expect(requests.inFlight).toBe(1);
  });

  test("a request's failure surfaces on the next send, and nothing more is sent", async () => {
    const { sendNow, started } = heldRequests();
    const requests = oneInFlight(sendNow, unpaced);
    await requests.send([1]);
    started[0]!.fail(new Error("brokers gone"));
    await expect(requests.send([2])).rejects.toThrow("brokers gone");
    expect(started).toHaveLength(1);
    expect(requests.inFlight).toBe(0);
  });

  test("drain waits for the request in flight and throws its failure", async () => {
    const { sendNow, started } = heldRequests();
    const requests = oneInFlight(sendNow, unpaced);
    await requests.drain();
    await requests.send([1]);
    started[0]!.fail(new Error("no answer"));
    await expect(requests.drain()).rejects.toThrow("no answer");
  });

  test("the next request is prepared before the one in flight is answered", async () => {
    const { sendNow, started } = heldRequests();
    const prepared: number[][] = [];
    const requests = oneInFlight(sendNow, unpaced, (messages) => prepared.push(messages));
    await requests.send([1]);
    const second = requests.send([2, 3]);
    await Bun.sleep(1);
    expect(prepared).toEqual([[1], [2, 3]]);
    expect(started).toHaveLength(1);
    started[0]!.answer();
    await second;
    expect(started.map((request) => request.messages)).toEqual([[1], [2, 3]]);
  });

  test("under a rate nothing is prepared ahead: records are stamped when they are due", async () => {
    const prepared: number[][] = [];
    const requests = oneInFlight(async (_messages: number[]) => undefined, { rate: 10, startedAt: 0, acknowledged: () => 0, now: () => 0, sleep: async () => undefined }, (messages) => prepared.push(messages));
    await requests.send([1]);
    await requests.drain();
    expect(prepared).toEqual([]);
  });

  test("under a rate a request waits until its last message is due", async () => {
    const slept: number[] = [];
    let acknowledged = 0;
    const requests = oneInFlight(
      async (messages: number[]) => {
        acknowledged += messages.length;
      },
      { rate: 10, startedAt: 1000, acknowledged: () => acknowledged, now: () => 1050, sleep: async (ms) => slept.push(ms) },
    );
    await requests.send([1]); // message 0 is due at once
    await requests.send([2, 3, 4]); // message 3 is due 300 ms after the start
    expect(slept).toEqual([250]);
  });
});
