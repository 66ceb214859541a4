/**
 * Fakes for the partition cycle's ports: a transactional producer and a Parquet sink that write
 * what happens to one shared event log, and can be told to fail at any step. No broker, no disk.
 */
import type { KafkaMessage, TopicMessages } from "kafkajs";
import type { CleanRow } from "../../../src/clean/types.ts";
import type { ProducerTransaction, TransactionalProducer } from "../../../src/kafka/transactional-producer.ts";
import type { WrittenFile } from "../../../src/stream/parquet-writer.ts";
import type { PartitionSink } from "../../../src/stream/partition-sink.ts";

export type Step = "begin" | "send" | "sendOffsets" | "commit" | "abort";

/** A Kafka error as kafkajs throws it: retriable when a broker went away, not when fenced. */
export const connectionClosed = () => Object.assign(new Error("Closed connection"), { name: "KafkaJSConnectionClosedError", retriable: true });
export const fenced = () => Object.assign(new Error("There is a newer producer with the same transactionalId which fences the current one"), { name: "KafkaJSProtocolError", type: "PRODUCER_FENCED", retriable: false });

export class FakeProducer implements TransactionalProducer {
  readonly log: string[];
  readonly sent: TopicMessages[][] = [];
  /** Every send as it was prepared, in order. */
  readonly prepared: TopicMessages[][] = [];
  readonly offsets: bigint[] = [];
  /** Steps that fail (once each) with the given error. */
  readonly failures = new Map<Step, Error>();
  /** When set, each send waits for `release()` of its turn. */
  holdSends = false;
  readonly #held: Array<() => void> = [];
  disconnected = false;
  #transactions = 0;

  constructor(log: string[]) {
    this.log = log;
  }

  release(): void {
    this.#held.shift()?.();
  }
  get heldSends(): number {
    return this.#held.length;
  }

  #step(step: Step, detail = ""): void {
    this.log.push(`${step}${detail}`);
    const failure = this.failures.get(step);
    if (failure) {
      this.failures.delete(step);
      throw failure;
    }
  }

  async begin(): Promise<ProducerTransaction> {
    this.#step("begin");
    const id = ++this.#transactions;
    return {
      prepare: (topicMessages) => {
        this.prepared.push(topicMessages);
      },
      send: async (topicMessages) => {
        if (this.holdSends) await new Promise<void>((resolve) => this.#held.push(resolve));
        this.#step("send", ` t${id}`);
        this.sent.push(topicMessages);
      },
      sendOffsets: async ({ offset }) => {
        this.#step("sendOffsets", ` ${offset}`);
        this.offsets.push(offset);
      },
      commit: async () => this.#step("commit", ` t${id}`),
      abort: async () => this.#step("abort", ` t${id}`),
    };
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

export class FakeSink implements PartitionSink {
  readonly log: string[];
  rows: CleanRow[] = [];
  readonly written: string[] = [];
  readonly removed: string[] = [];
  flushFailure: Error | undefined;
  #files = 0;

  constructor(log: string[]) {
    this.log = log;
  }
  get rowCount(): number {
    return this.rows.length;
  }
  append(row: CleanRow): void {
    this.rows.push(row);
  }
  async flush(): Promise<WrittenFile[]> {
    if (this.flushFailure) throw this.flushFailure;
    const path = `file-${++this.#files}`;
    const file = { path, rows: this.rows.length, bytes: 1 };
    this.rows = [];
    this.written.push(path);
    this.log.push(`flush ${path}`);
    return [file];
  }
  discard(): void {
    this.rows = [];
  }
  async remove(paths: readonly string[]): Promise<void> {
    this.removed.push(...paths);
    this.log.push(`remove ${paths.join(",")}`);
  }
}

const encoder = new TextEncoder();

/** Input messages at `from`..`from + count - 1`; `bad` offsets hold invalid JSON (dead letters). */
export function messages(from: number, count: number, bad: ReadonlySet<number> = new Set()): KafkaMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const offset = from + i;
    const value = bad.has(offset) ? "not json" : JSON.stringify({ id: offset + 1, first_name: "Ada", email: "ada@example.com", ip_address: "10.0.0.1", country: "Peru" });
    return { key: null, value: Buffer.from(encoder.encode(value)), timestamp: "1764115200000", offset: String(offset), headers: {}, attributes: 0, size: 0 } as unknown as KafkaMessage;
  });
}
