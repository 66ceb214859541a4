import { describe, expect, test } from "bun:test";
import type { Message, TopicMessages } from "kafkajs";
import { Outbox } from "../../../src/stream/outbox.ts";
import { SendChain } from "../../../src/stream/send-chain.ts";

const message = (key: string): Message => ({ key, value: "v" });
const shape = (send: TopicMessages[]) => send.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join("")}`);

describe("the outbox", () => {
  test("collects staging messages and dead letters into one send per topic", () => {
    const outbox = new Outbox({ staging: "s", deadLetter: "d" }, { staging: 100, deadLetter: 100 });
    const sends: TopicMessages[][] = [];
    outbox.add("staging", message("a"), 10, (send) => sends.push(send));
    outbox.add("deadLetter", message("b"), 10, (send) => sends.push(send));
    expect(sends).toEqual([]);
    expect(shape(outbox.take())).toEqual(["s:a", "d:b"]);
    expect(outbox.take()).toEqual([]);
  });

  test("a message that does not fit on top of its topic's pending ones goes in a send of its own", () => {
    const outbox = new Outbox({ staging: "s", deadLetter: "d" }, { staging: 100, deadLetter: 100 });
    const sends: TopicMessages[][] = [];
    outbox.add("staging", message("a"), 30, (send) => sends.push(send));
    outbox.add("deadLetter", message("b"), 30, (send) => sends.push(send));
    outbox.add("deadLetter", message("c"), 90, (send) => sends.push(send));
    expect(sends.map(shape)).toEqual([["s:a", "d:b"]]);
    expect(shape(outbox.take())).toEqual(["d:c"]);
  });

  test("each topic has its own bound: dead letters are cut at theirs while staging messages gather", () => {
    const outbox = new Outbox({ staging: "s", deadLetter: "d" }, { staging: 100, deadLetter: 40 });
    const sends: TopicMessages[][] = [];
    outbox.add("staging", message("a"), 50, (send) => sends.push(send));
    outbox.add("deadLetter", message("b"), 30, (send) => sends.push(send));
    outbox.add("deadLetter", message("c"), 30, (send) => sends.push(send));
    expect(sends.map(shape)).toEqual([["s:a", "d:b"]]);
    outbox.add("staging", message("d"), 60, (send) => sends.push(send));
    expect(sends.map(shape)).toEqual([["s:a", "d:b"]]);
    expect(shape(outbox.take())).toEqual(["s:d", "d:c"]);
  });


  test("a send that reaches the limit is dispatched at once", () => {
    const outbox = new Outbox({ staging: "s", deadLetter: "d" }, { staging: 100, deadLetter: 100 });
    const sends: TopicMessages[][] = [];
    outbox.add("staging", message("a"), 60, (send) => sends.push(send));
    outbox.add("staging", message("b"), 40, (send) => sends.push(send));
    expect(sends.map(shape)).toEqual([["s:ab"]]);
  });
});

describe("the send chain", () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  test("starts each send only after the previous one is answered", async () => {
    const chain = new SendChain(4);
    const first = deferred();
    const started: string[] = [];
    chain.push(() => (started.push("1"), first.promise));
    chain.push(async () => void started.push("2"));
    await Bun.sleep(1);
    expect(started).toEqual(["1"]);
    first.resolve();
    await chain.settled();
    expect(started).toEqual(["1", "2"]);
  });

  test("makes cleaning wait while the most sends allowed are unanswered", async () => {
    const chain = new SendChain(2);
    const first = deferred();
    chain.push(() => first.promise);
    chain.push(async () => undefined);
    expect(chain.inFlight).toBe(2);
    let roomy = false;
    const waiting = chain.room().then(() => (roomy = true));
    await Bun.sleep(1);
    expect(roomy).toBe(false);
    first.resolve();
    await waiting;
    expect(roomy).toBe(true);
  });

  test("a failed send fails the sends queued after it, without attempting them, and surfaces where the chain is settled", async () => {
    const chain = new SendChain(4);
    const attempted: string[] = [];
    chain.push(async () => {
      throw new Error("leader gone");
    });
    chain.push(async () => void attempted.push("2"));
    await expect(chain.settled()).rejects.toThrow("leader gone");
    await chain.room();
    expect(attempted).toEqual([]);
  });
});
