/**
 * Stops kafkajs' request queues from polling every millisecond. kafkajs 2.2.4 re-arms a timer
 * after every check of a connection's pending requests, and when nothing is pending or throttled
 * it arms it with a negative delay (throttledUntil = -1 minus the epoch), which fires at once and
 * arms the next: about 860 wake-ups a second per open connection, for the connection's whole
 * life. stream-clean holds one connection per partition's producer and several for its consumer,
 * so an idle consumer never sleeps and a busy one spends CPU on timers.
 *
 * A check with nothing pending has nothing to do: a request that cannot be sent at once is queued
 * by push(), which arms the timer itself, and every answered or timed-out request checks again.
 * So the timer is armed only while requests are pending, exactly as kafkajs does then.
 */
// kafkajs' internals have no types; the shape used here is declared in kafkajs-internals.d.ts.
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** kafkajs' own method, kept for the patched one and for the test that shows what it does. */
export const originalScheduleCheck = RequestQueue.prototype.scheduleCheckPendingRequests;

let installed = false;

export function installIdleRequestQueues(): void {
  if (installed) return;
  installed = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
    if (this.pending.length === 0) return;
    originalScheduleCheck.call(this);
  };
}
