/**
 * produce's input items read on a second thread: the scan worker (scan-worker.ts) reads and scans
 * the file, this side unpacks its batches into the same items, in the same order, with the same
 * errors after the same items, as readElementBatches gives on this thread. Stopping early (a
 * limit, a signal) or failing terminates the worker.
 */
import { workerEntryUrl } from "../worker-url.ts";
import { unpackItems } from "./packed-items.ts";
import type { InputItem } from "./read-elements.ts";
import { reviveScanFailure, type ScanReply, type ScanRequest } from "./scan-protocol.ts";

/** Where scan-worker.ts is: this file's neighbour from source, "input/scan-worker" in a binary. */
export function scanWorkerUrl(base = import.meta.url): URL {
  return workerEntryUrl("input/scan-worker.ts", base);
}

export async function* readElementBatchesInWorker(path: string): AsyncGenerator<InputItem[]> {
  // A small heap: the thread holds a few chunks of the file at a time.
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
  } finally {
    worker.terminate();
  }
}
