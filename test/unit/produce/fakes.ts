/**
 * Fake ports for the produce pieces: a ledger that logs every write (and can be told to refuse
 * one, as a ledger locked past its timeout does) and a broker that answers requests by a rule.
 */
import type { Message, RecordMetadata, TopicMessages } from "kafkajs";
import { LedgerError } from "../../../src/errors.ts";
import type { JournalEntry } from "../../../src/ledger/journal.ts";
import type { Acknowledgement, InDoubt, Rejection } from "../../../src/ledger/ledger.ts";
import type { RunLedger } from "../../../src/produce/sink.ts";

export type LedgerWrite =
  | { call: "recordInDoubt"; entries: InDoubt[] }
  | { call: "recordAcks"; topic: string; acks: Acknowledgement[] }
  | { call: "finishRun"; status: string; error: string | undefined }
  | { call: "keepForLater"; entries: JournalEntry[] }
  | { call: "recordRejection"; rejection: Rejection };

export function fakeLedger(refuse: { [call in LedgerWrite["call"]]?: boolean } = {}) {
  const writes: LedgerWrite[] = [];
  const write = (entry: LedgerWrite) => {
    if (refuse[entry.call]) throw new LedgerError(`ledger.db is locked (${entry.call})`);
    writes.push(entry);
  };
  const ledger: RunLedger = {
    startRun: () => undefined,
    beat: () => undefined,
    recordInDoubt: (_runId, entries) => write({ call: "recordInDoubt", entries: entries.map((entry) => ({ ...entry })) }),
    recordAcks: (_runId, topic, acks) => write({ call: "recordAcks", topic, acks: acks.map((ack) => ({ ...ack })) }),
    finishRun: (_runId, status, error) => write({ call: "finishRun", status, error }),
    keepForLater: (entries) => {
      write({ call: "keepForLater", entries: [...entries] });
      return "/ledger.db.unrecorded.ndjson";
    },
    recordRejection: (_runId, rejection) => write({ call: "recordRejection", rejection }),
  };
  return { ledger, writes, refuse };
}

/**
 * A broker whose n-th request (from 1) is answered by `answer(n, partition)`: an offset for the
 * partition's messages, undefined for no answer, or "fail" to fail the whole request.
 */
export function fakeBroker(answer: (call: number, partition: number) => number | undefined | "fail") {
  const requests: TopicMessages[][] = [];
  const request = async (topicMessages: TopicMessages[]): Promise<RecordMetadata[]> => {
    requests.push(topicMessages);
    const call = requests.length;
    const results: RecordMetadata[] = [];
    for (const { topic, messages } of topicMessages) {
      for (const partition of new Set(messages.map((message: Message) => message.partition!))) {
        const offset = answer(call, partition);
        if (offset === "fail") throw Object.assign(new Error("Connection closed"), { name: "KafkaJSConnectionClosedError", retriable: true });
        if (offset !== undefined) results.push({ topicName: topic, partition, errorCode: 0, baseOffset: String(offset) });
      }
    }
    return results;
  };
  return { request, requests };
}

/** Messages whose key names their partition ("p0", "p1"): the fake partitioner reads it back. */
export const messagesFor = (...partitions: number[]): Message[] => partitions.map((partition, i) => ({ key: `p${partition}`, value: `{"n":${i}}` }));
export const partitionOf = (message: Message) => Number(String(message.key).slice(1));
