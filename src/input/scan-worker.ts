/**
 * The scan worker: a Bun Worker thread that reads produce's input file and scans it into
 * elements and rejections (read-elements.ts, the same code the main thread would run), so the
 * main thread keeps only the Kafka requests and the ledger. It sends one packed batch per chunk of
 * the input, at most SCAN_AHEAD_BATCHES ahead of what the main thread took: memory stays bounded
 * however fast the file reads. An error is sent after every item before it, as on the main thread.
 *
 * Messages: scan-protocol.ts.
 */
import { openInput } from "./open.ts";
import { createPackedSink } from "./packed-items.ts";
import { readBatches } from "./read-elements.ts";
import { describeScanFailure, SCAN_AHEAD_BATCHES, type ScanReply, type ScanRequest } from "./scan-protocol.ts";

declare const self: Worker;

let credits = SCAN_AHEAD_BATCHES;
let wake: (() => void) | undefined;

function reply(message: ScanReply, transfer: Bun.Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function scan(path: string): Promise<void> {
  try {
    const input = openInput(path);
    for await (const packed of readBatches(input.stream, input.name, createPackedSink())) {
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits--;
      reply({ type: "items", ...packed }, [packed.data.buffer as ArrayBuffer, packed.meta.buffer as ArrayBuffer]);
    }
    reply({ type: "end" });
  } catch (error) {
    reply({ type: "failed", error: describeScanFailure(error) });
  }
}

self.onmessage = (event: MessageEvent<ScanRequest>) => {
  const request = event.data;
  if (request.type === "scan") {
    void scan(request.path);
  } else {
    credits++;
    wake?.();
    wake = undefined;
  }
};
