/**
 * produce's input items read on a second thread: the scan worker (scan-worker.ts) reads and scans
 * the file, this side unpacks its batches into the same items, in the same order, with the same
 * errors after the same items, as readElementBatches gives on this thread. Stopping early (a
 * limit, a signal) or failing terminates the worker.
 */
import { WorkerError } from "../errors.ts";
import type { InputItem } from "./read-elements.ts";
import { reviveScanFailure, type ScanReply, type ScanRequest } from "./scan-protocol.ts";
import { unpackItems } from "./packed-items.ts";

/**
 * Where scan-worker.ts is. From source it is this file's neighbour. In a compiled binary
 * (scripts/build.sh lists it as an entry point) every module's URL is the binary's own, and the
 * worker sits at "input/scan-worker" below the binary's root.
 */
export function scanWorkerUrl(base = import.meta.url): URL {
  const compiled = base.includes("/$bunfs/") || base.includes("~BUN");
  return new URL(compiled ? "./input/scan-worker.ts" : "./scan-worker.ts", base);
}

export async function* readElementBatchesInWorker(path: string): AsyncGenerator<InputItem[]> {
  const worker = new Worker(scanWorkerUrl(), { smol: true });
  const replies: ScanReply[] = [];
  let wake: (() => void) | undefined;
  const arrived = (reply: ScanReply) => {
    replies.push(reply);
    wake?.();
    wake = undefined;
  };
  worker.onmessage = (event: MessageEvent<ScanReply>) => arrived(event.data);
  worker.onerror = (event) => arrived({ type: "failed", error: { kind: "other", message: event.message } });
  const send = (request: ScanRequest) => worker.postMessage(request);
  try {
    send({ type: "scan", path });
    for (;;) {
      while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const reply = replies.shift()!;
      if (reply.type === "end") return;
      if (reply.type === "failed") throw reviveScanFailure(reply.error);
      send({ type: "more" });
      yield unpackItems(reply);
    }
  } catch (error) {
    if (error instanceof Error) throw error;
    throw new WorkerError(`the input scan worker failed: ${String(error)}`);
  } finally {
    worker.terminate();
  }
}
