/**
 * The produce job: streams elements from the input reader into a sink, in requests of
 * produce.batch_size messages (fewer under --rate, and never past the request byte limit). The
 * Kafka sink publishes them onto the input topic through an idempotent producer, one request in
 * flight while the next batch is read, and records every acknowledged offset range in the ledger
 * (or, when the ledger is held by another process past ledger.lock_timeout, in its journal, and
 * stops); the dry-run sink only counts. The run moves through the states of run-state.ts.
 */
import type { Message } from "kafkajs";
import { InputSyntaxError } from "../errors.ts";
import { elementBatches, type OpenedInput, openInput } from "../input/index.ts";
import type { Rejection } from "../ledger/ledger.ts";
import { log } from "../ui/log.ts";
import { createProgress, type Progress } from "../ui/progress.ts";
import { shutdownSignal } from "../ui/shutdown.ts";
import { createRequestBatch, oversize, type RequestBatch } from "./batch.ts";
import type { ProduceOptions } from "./options.ts";
import { dueCount } from "./pace.ts";
import { drained, isFinal, moveTo, type RunState } from "./run-state.ts";
import type { OpenSink, Sink } from "./sink.ts";

export type { ProduceOptions } from "./options.ts";

/** The `--json` summary: a stable wire format. */
export interface ProduceSummary {
  run_id: string | null;
  producer: string;
  source: string;
  topic: string;
  status: "completed" | "failed" | "interrupted" | "dry-run";
  sent: number;
  rejected: number;
  bytes: number;
  seconds: number;
  records_per_second: number;
  /** The first rejected NDJSON lines, for the person reading the summary. */
  rejections: Rejection[];
}

/** Rejections echoed in the summary; all of them are counted, and the ledger keeps more. */
const SUMMARY_REJECTIONS = 20;
/** Rejections shown on stderr. */
const LOGGED_REJECTIONS = 5;

/** What the loop has read so far. */
interface Tally {
  accepted: number;
  bytes: number;
  rejected: number;
  readonly rejections: Rejection[];
}

export async function produceRecords(options: ProduceOptions, openSink: OpenSink): Promise<ProduceSummary> {
  const input = openInput(options.source);
  const startedAt = performance.now();
  let state: RunState = { name: "starting" };
  const sink = await openSink({ source: input.name, startedAt });
  state = moveTo(state, { name: "publishing" });
  const progress = createProgress({ label: sink.kind === "dry-run" ? "parsed" : "produced", totalBytes: input.sizeBytes });
  const tally: Tally = { accepted: 0, bytes: 0, rejected: 0, rejections: [] };
  const batch = createRequestBatch();
  try {
    const ending = await publish({ input, options, sink, batch, tally, progress, startedAt });
    state = moveTo(state, { name: "draining", ending });
    if (batch.size > 0) await sink.send(batch.take());
    await sink.drain();
    state = drained(state);
  } catch (error) {
    state = moveTo(state, { name: "failed", error: error instanceof Error ? error.message : String(error) });
    // Elements before a syntax error are valid: publish them, so the file's good prefix lands.
    if (error instanceof InputSyntaxError && batch.size > 0) await sink.send(batch.take()).catch(() => undefined);
    await sink.drain().catch(() => undefined);
    throw error;
  } finally {
    progress.done();
    // The catch or the try left the state final; a request may no longer be answered after this.
    if (isFinal(state)) await sink.close(state);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    run_id: sink.runId,
    producer: options.producer,
    source: input.name,
    topic: options.topic,
    status: sink.kind === "dry-run" && state.name === "completed" ? "dry-run" : state.name,
    sent: sink.acknowledged,
    rejected: tally.rejected,
    bytes: tally.bytes,
    seconds,
    records_per_second: Math.round(sink.acknowledged / Math.max(seconds, 1e-3)),
    rejections: tally.rejections,
  };
}

interface Publishing {
  readonly input: OpenedInput;
  readonly options: ProduceOptions;
  readonly sink: Sink;
  readonly batch: RequestBatch;
  readonly tally: Tally;
  readonly progress: Progress;
  readonly startedAt: number;
}

/**
 * Reads the input into requests until it ends, the limit is reached or a signal asks to stop, and
 * says which. What is left in the batch is the caller's to send.
 */
async function publish({ input, options, sink, batch, tally, progress, startedAt }: Publishing): Promise<"completed" | "interrupted"> {
  const reject = (rejection: Rejection) => {
    tally.rejected++;
    if (tally.rejections.length < SUMMARY_REJECTIONS) tally.rejections.push(rejection);
    if (tally.rejected <= LOGGED_REJECTIONS) log.warn(`${input.name}:${rejection.line}: rejected: ${rejection.reason}`);
    sink.reject(rejection);
  };
  for await (const items of elementBatches(input, options.scanInWorker)) {
    for (const item of items) {
      // SIGINT/SIGTERM: stop reading; the caller sends what is batched and waits for the request in flight.
      if (shutdownSignal.aborted) return "interrupted";
      if (item.kind === "rejected") {
        reject({ line: item.line, reason: item.reason });
        continue;
      }
      if (options.limit !== undefined && tally.accepted >= options.limit) return "completed";
      // A record the broker refuses would fail the whole request (and with it a run that has a good
      // prefix), and a 100 MB one is cut off by the broker's socket limit and retried until
      // kafka.retry_limit. Refused here instead, like a bad NDJSON line: counted, with its line.
      const size = oversize(item.value, item.key, sink.maxMessageBytes);
      if (size !== undefined) {
        reject({ line: item.line, reason: `the element is ${size} bytes, larger than the topic accepts (max.message.bytes ${sink.maxMessageBytes})` });
        continue;
      }
      tally.accepted++;
      tally.bytes += item.bytes;
      // Every field the send path sets is there from the start: one object shape for all messages.
      const message: Message = { key: item.key ?? null, value: item.value, partition: undefined, headers: undefined };
      // Its partition now, once: each partition's batch in a request has a byte bound of its own.
      const partition = sink.partitionOf(message);
      message.partition = partition;
      if (batch.wouldOverflow(partition, item.bytes)) await sink.send(batch.take());
      batch.add(message, partition, item.bytes);
      // Only the request in flight counts as sent here, not what was acknowledged: under --rate a
      // request grows towards batch_size as the run goes on, and the sink holds it until its last
      // message is due, so the pace holds with few requests.
      const due = options.rate > 0 ? dueCount(sink.inFlight, performance.now() - startedAt, options.rate, options.batchSize) : options.batchSize;
      if (batch.isDue(due)) await sink.send(batch.take());
    }
    // Once per chunk of the input (a few thousand elements), not per element: a redraw is due every 100 ms at most.
    progress.update({ records: tally.accepted, bytes: tally.bytes, extra: tally.rejected ? { rejected: tally.rejected } : undefined });
  }
  return "completed";
}
