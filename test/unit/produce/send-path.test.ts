import { describe, expect, test } from "bun:test";
import { KafkaError, LedgerError } from "../../../src/errors.ts";
import { RUN_HEADER } from "../../../src/ledger/ledger.ts";
import { createSendPath } from "../../../src/produce/send-path.ts";
import { setVerbosity } from "../../../src/ui/log.ts";
import { fakeBroker, fakeLedger, messagesFor, partitionOf } from "./fakes.ts";

setVerbosity({ quiet: true });

const run = { runId: "run-1", topic: "in", brokers: "b:9092", startOffsets: new Map([[0, 100], [1, 7]]) };

describe("the produce send path", () => {
  test("a request's in-doubt rows are written before it is sent, from where each partition's records can be", async () => {
    const { ledger, writes } = fakeLedger();
    let writesWhenSent = -1;
    const broker = fakeBroker(() => 100);
    const path = createSendPath(run, {
      request: (messages) => ((writesWhenSent = writes.length), broker.request(messages)),
      partitionOf,
      ledger,
    });
    await path.send(messagesFor(0, 1, 1));
    expect(writesWhenSent).toBe(1);
    expect(writes[0]).toEqual({
      call: "recordInDoubt",
      entries: [
        { topic: "in", partition: 0, from_offset: 100, count: 1 },
        { topic: "in", partition: 1, from_offset: 7, count: 2 },
      ],
    });
  });

  test("prepare chooses the partitions once and hands each partition's messages over in request order", async () => {
    const { ledger } = fakeLedger();
    const broker = fakeBroker(() => 100);
    const prepared: number[][] = [];
    let partitionCalls = 0;
    const path = createSendPath(run, {
      request: broker.request,
      partitionOf: (message) => (partitionCalls++, partitionOf(message)),
      ledger,
      prepareRecords: (group) => prepared.push(group.map((message) => JSON.parse(String(message.value)).n)),
    });
    const messages = messagesFor(1, 0, 1, 0);
    path.prepare(messages);
    expect(prepared).toEqual([[0, 2], [1, 3]]);
    expect(messages.every((message) => message.headers?.[RUN_HEADER] === "run-1")).toBe(true);
    await path.send(messages);
    expect(partitionCalls).toBe(4);
    expect(broker.requests[0]![0]!.messages.map((message) => message.partition)).toEqual([1, 0, 1, 0]);
  });

  test("an answered request is acknowledged and recorded per partition, and the next one is expected after it", async () => {
    const { ledger, writes } = fakeLedger();
    const broker = fakeBroker((call, partition) => (partition === 0 ? 100 + (call - 1) * 2 : 7));
    const path = createSendPath(run, { request: broker.request, partitionOf, ledger });
    await path.send(messagesFor(0, 0, 1));
    expect(path.acknowledged).toBe(3);
    expect(writes[1]).toEqual({ call: "recordAcks", topic: "in", acks: [{ partition: 0, firstOffset: 100, count: 2 }, { partition: 1, firstOffset: 7, count: 1 }] });
    expect(path.owed.unrecorded).toEqual([]);
    await path.send(messagesFor(0));
    expect(writes[2]).toEqual({ call: "recordInDoubt", entries: [{ topic: "in", partition: 0, from_offset: 102, count: 1 }] });
  });

  test("every message carries the run header and the partition it was counted under", async () => {
    const { ledger } = fakeLedger();
    const broker = fakeBroker(() => 0);
    const path = createSendPath(run, { request: broker.request, partitionOf, ledger });
    await path.send(messagesFor(1, 0));
    const sent = broker.requests[0]!.flatMap((topicMessages) => topicMessages.messages);
    expect(sent.map((message) => [message.partition, message.headers])).toEqual(
      expect.arrayContaining([
        [0, { [RUN_HEADER]: "run-1" }],
        [1, { [RUN_HEADER]: "run-1" }],
      ]),
    );
  });

  test("a request that gets no answer keeps all its records in doubt and says how many", async () => {
    const { ledger } = fakeLedger();
    const path = createSendPath(run, { request: fakeBroker(() => "fail").request, partitionOf, ledger });
    const error = await path.send(messagesFor(0, 1, 1)).catch((caught) => caught);
    expect(error).toBeInstanceOf(KafkaError);
    expect(error.message).toContain("3 records sent without an answer are in doubt");
    expect(error.retriable).toBe(true);
    expect(path.acknowledged).toBe(0);
    expect(path.owed.inDoubt).toEqual([
      { topic: "in", partition: 0, from_offset: 100, count: 1 },
      { topic: "in", partition: 1, from_offset: 7, count: 2 },
    ]);
  });

  test("partitions answered before a request failed are acknowledged and owed; only the others are in doubt", async () => {
    const { ledger } = fakeLedger();
    // First attempt: partition 0 answered, 1 not; the resend of partition 1 fails.
    const broker = fakeBroker((call, partition) => (call === 1 ? (partition === 0 ? 100 : undefined) : "fail"));
    const path = createSendPath(run, { request: broker.request, partitionOf, ledger });
    const error = await path.send(messagesFor(0, 0, 1)).catch((caught) => caught);
    expect(error.message).toContain("1 records sent without an answer are in doubt");
    expect(path.acknowledged).toBe(2);
    expect(path.owed.unrecorded).toEqual([{ partition: 0, firstOffset: 100, count: 2 }]);
    expect(path.owed.inDoubt).toEqual([{ topic: "in", partition: 1, from_offset: 7, count: 1 }]);
  });

  test("acknowledgements the ledger refuses stay owed, counted as acknowledged, and are recorded on a later try", async () => {
    const { ledger, writes, refuse } = fakeLedger({ recordAcks: true });
    const path = createSendPath(run, { request: fakeBroker(() => 100).request, partitionOf, ledger });
    expect(path.send(messagesFor(0, 0))).rejects.toBeInstanceOf(LedgerError);
    await Bun.sleep(0);
    expect(path.acknowledged).toBe(2);
    expect(path.owed.unrecorded).toEqual([{ partition: 0, firstOffset: 100, count: 2 }]);
    refuse.recordAcks = false;
    path.recordOwed();
    expect(writes.at(-1)).toEqual({ call: "recordAcks", topic: "in", acks: [{ partition: 0, firstOffset: 100, count: 2 }] });
    expect(path.owed.unrecorded).toEqual([]);
  });

  test("a ledger that refuses the in-doubt row stops the request before it is sent", async () => {
    const { ledger } = fakeLedger({ recordInDoubt: true });
    const broker = fakeBroker(() => 100);
    const path = createSendPath(run, { request: broker.request, partitionOf, ledger });
    expect(path.send(messagesFor(0))).rejects.toBeInstanceOf(LedgerError);
    await Bun.sleep(0);
    expect(broker.requests).toHaveLength(0);
    expect(path.owed.inDoubt).toEqual([]);
  });
});
