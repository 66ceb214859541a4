/**
 * The clean worker: a Bun Worker thread that cleans stream-clean's records and encodes their
 * Parquet files, so that the main thread keeps only Kafka's I/O and the transaction protocol.
 * It holds, per input partition (a "sink"), the open cycle's rows by ingest date and the rows of
 * chunks cleaned but not yet accepted; it never touches Kafka or the store (the main thread puts
 * the files it encodes, so the store and its crash points stay where the protocol runs).
 *
 * Requests and replies: worker-protocol.ts. Any error answers the request it came from with
 * `failed`; the main thread turns it into a WorkerError.
 */
import type { CleanRow } from "../clean/types.ts";
import { crashPoint } from "../faults.ts";
import { cleanChunk, createStager } from "./cleaner.ts";
import { createDatedRows, type DatedRows } from "./partition-sink.ts";
import { OutcomeWriter, readRecords, type SinkSpec, type WorkerReply, type WorkerRequest } from "./worker-protocol.ts";

declare const self: Worker;

interface Sink {
  readonly spec: SinkSpec;
  readonly rows: DatedRows;
  readonly stage: ReturnType<typeof createStager>;
  /** Rows of cleaned chunks waiting for `accept`, with how many were accepted so far. */
  readonly waiting: Map<number, { rows: CleanRow[]; next: number }>;
}

const sinks = new Map<number, Sink>();

function sinkOf(id: number): Sink {
  const sink = sinks.get(id);
  if (!sink) throw new Error(`no sink ${id} is open in this worker`);
  return sink;
}

function reply(message: WorkerReply, transfer: Bun.Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function clean(sink: Sink, chunk: number, buffer: ArrayBuffer): ArrayBuffer {
  const records = readRecords(buffer);
  const recordAt = (index: number) => ({ offset: records.offset(index), timestamp: records.timestamp(index), value: records.value(index) });
  const writer = new OutcomeWriter();
  const rows = cleanChunk(records.count, recordAt, sink.spec.partition, sink.spec.rules, sink.stage, writer);
  sink.waiting.set(chunk, { rows, next: 0 });
  return writer.finish();
}

function handle(request: WorkerRequest): void {
  switch (request.type) {
    case "open":
      sinks.set(request.sink, {
        spec: request.spec,
        rows: createDatedRows(request.spec.topic, request.spec.partition, request.spec.compression),
        stage: createStager(request.spec.rules, request.spec.stagingPartitions),
        waiting: new Map(),
      });
      return;
    case "clean": {
      const outcomes = clean(sinkOf(request.sink), request.chunk, request.records);
      reply({ type: "cleaned", id: request.id, outcomes }, [outcomes]);
      return;
    }
    case "accept": {
      const sink = sinkOf(request.sink);
      const entry = sink.waiting.get(request.chunk);
      if (!entry || entry.next + request.rows > entry.rows.length) throw new Error(`chunk ${request.chunk} has no ${request.rows} rows left to accept`);
      for (let index = 0; index < request.rows; index++) sink.rows.append(entry.rows[entry.next++]!);
      return;
    }
    case "release":
      sinkOf(request.sink).waiting.delete(request.chunk);
      return;
    case "encode": {
      crashPoint("clean-encode");
      const sink = sinkOf(request.sink);
      const files = sink.rows.encode();
      reply({ type: "encoded", id: request.id, files }, files.map((file) => file.bytes.buffer as ArrayBuffer));
      return;
    }
    case "discard":
      sinkOf(request.sink).rows.clear();
      return;
    case "close":
      sinks.delete(request.sink);
      return;
  }
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    handle(request);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    reply({ type: "failed", id: "id" in request ? request.id : undefined, message: failure.message, name: failure.name });
  }
};

reply({ type: "ready" });
