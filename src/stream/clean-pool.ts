/**
 * The clean workers of one stream-clean process (clean.workers Bun Workers running
 * clean-worker.ts), and the PartitionCleaner each input partition's cycle uses to reach its
 * worker. A partition stays on one worker (partition mod the worker count), so its chunks are
 * cleaned and its rows kept in order. The main thread packs each chunk's records into one
 * transferable buffer, reads the outcomes back from another, and puts the Parquet files the worker
 * encoded into the ParquetStore itself: the store, its crash points and the protocol's order
 * (every send acknowledged, Parquet durable, offsets, commit) stay on the main thread.
 *
 * A worker that fails (an uncaught error, an exit) is `failed` (worker-states.ts): everything it
 * was asked and everything asked later is rejected with a WorkerError (KSTREAM_WORKER), which the
 * cycle's usual error path turns into the end of the run, never a wait.
 */
import { availableParallelism } from "node:os";
import { WorkerError } from "../errors.ts";
import type { ParquetStore } from "../storage/store.ts";
import { log } from "../ui/log.ts";
import { workerEntryUrl } from "../worker-url.ts";
import type { CleanedChunk, PartitionCleaner } from "./cleaner.ts";
import { putFiles, removeFiles } from "./partition-sink.ts";
import { takesRequests, workerTransition, type WorkerState } from "./worker-states.ts";
import { type EncodedFile, OutcomeReader, packRecords, type SinkSpec, type WorkerReply, type WorkerRequest } from "./worker-protocol.ts";

/**
 * clean.workers when the config leaves it out: none on one or two cores, else one per core
 * beyond the main thread's. On two cores shared with a broker a worker thread gained no wall
 * time and cost 20-30% more CPU (README "Performance"): the second core is not free to take it.
 */
export function defaultWorkerCount(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : cores - 1;
}

/** Requests that carry an id (answered once), without it: the handle assigns it. */
type Asked = Extract<WorkerRequest, { id: number }>;
type Ask = Asked extends infer R ? (R extends Asked ? Omit<R, "id"> : never) : never;

interface Waiting {
  resolve(reply: WorkerReply): void;
  reject(error: WorkerError): void;
}

/** One worker thread as the main thread sees it: its state, its requests in flight. */
class WorkerHandle {
  readonly index: number;
  readonly #worker: Worker;
  #state: WorkerState = "starting";
  #failure: WorkerError | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;

  constructor(index: number, worker: Worker) {
    this.index = index;
    this.#worker = worker;
    worker.addEventListener("message", (event: MessageEvent<WorkerReply>) => this.#receive(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => this.#fail(`clean worker ${index} failed: ${event.message}`));
    worker.addEventListener("messageerror", () => this.#fail(`clean worker ${index} sent a message that could not be read`));
    worker.addEventListener("close", () => this.#fail(`clean worker ${index} exited`));
    // The run's end terminates it; until then it must not keep the process alive on its own.
    worker.unref();
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Sends an order (no answer unless it fails); a failed worker takes none. */
  order(request: Exclude<WorkerRequest, { id: number }>): void {
    if (takesRequests(this.#state)) this.#worker.postMessage(request);
  }

  /** Sends a request and resolves with its answer; rejects with a WorkerError if it fails or the worker does. */
  ask(request: Ask, transfer: Bun.Transferable[] = []): Promise<WorkerReply> {
    if (!takesRequests(this.#state)) return Promise.reject(this.#failure ?? new WorkerError(`clean worker ${this.index} is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  close(): void {
    if (this.#state === "closed") return;
    this.#state = workerTransition(this.#state, "closed");
    this.#rejectAll(new WorkerError(`clean worker ${this.index} is closed`));
    this.#worker.terminate();
  }

  #receive(message: WorkerReply): void {
    if (message.type === "ready") {
      if (this.#state === "starting") this.#state = workerTransition(this.#state, "ready");
      return;
    }
    if (message.type === "failed" && message.id === undefined) {
      this.#fail(`clean worker ${this.index} failed: ${message.message}`);
      return;
    }
    const id = message.id!;
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    if (message.type === "failed") waiting.reject(new WorkerError(`clean worker ${this.index} failed: ${message.message}`, { context: { error: message.name } }));
    else waiting.resolve(message);
  }

  #fail(message: string): void {
    if (!takesRequests(this.#state)) return;
    this.#state = workerTransition(this.#state, "failed");
    this.#failure = new WorkerError(message);
    log.debug(message);
    this.#rejectAll(this.#failure);
  }

  #rejectAll(error: WorkerError): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const { reject } of waiting) reject(error);
  }
}

export interface CleanPool {
  readonly size: number;
  /** The cleaner of one input partition's cycle; its rows live in the partition's worker. */
  cleanerFor(spec: SinkSpec, store: ParquetStore): PartitionCleaner;
  /** Terminates every worker (the run's end); their rows are dropped. */
  close(): void;
}

/** Where clean-worker.ts is: this file's neighbour from source, "stream/clean-worker" in a binary. */
export function workerUrl(base = import.meta.url): URL {
  return workerEntryUrl("stream/clean-worker.ts", base);
}

export function startCleanPool(workers: number): CleanPool {
  const handles = Array.from({ length: workers }, (_, index) => new WorkerHandle(index, new Worker(workerUrl())));
  let nextSink = 0;
  return {
    size: workers,
    cleanerFor: (spec, store) => workerCleaner(handles[spec.partition % workers]!, nextSink++, spec, store),
    close() {
      for (const handle of handles) handle.close();
    },
  };
}

function workerCleaner(handle: WorkerHandle, sink: number, spec: SinkSpec, store: ParquetStore): PartitionCleaner {
  handle.order({ type: "open", sink, spec });
  let rowCount = 0;
  let nextChunk = 0;
  /** Key of each file written, by the `path` the cycle knows it by. */
  const keys = new Map<string, string>();
  return {
    get rowCount() {
      return rowCount;
    },
    clean(records) {
      const chunk = nextChunk++;
      const buffer = packRecords(records);
      const cleaned = handle.ask({ type: "clean", sink, chunk, records: buffer }, [buffer]).then((reply): CleanedChunk => {
        if (reply.type !== "cleaned") throw new WorkerError(`clean worker ${handle.index} answered a clean with ${reply.type}`);
        return new OutcomeReader(reply.outcomes);
      });
      return { id: chunk, cleaned };
    },
    accept(chunk, rows) {
      rowCount += rows;
      handle.order({ type: "accept", sink, chunk, rows });
    },
    release: (chunk) => handle.order({ type: "release", sink, chunk }),
    async flush() {
      const reply = await handle.ask({ type: "encode", sink });
      if (reply.type !== "encoded") throw new WorkerError(`clean worker ${handle.index} answered an encode with ${reply.type}`);
      rowCount = 0;
      return putFiles(store, reply.files as EncodedFile[], keys);
    },
    discard() {
      rowCount = 0;
      handle.order({ type: "discard", sink });
    },
    remove: (paths) => removeFiles(store, paths, keys),
    close: () => handle.order({ type: "close", sink }),
  };
}
