/**
 * Settles the produce requests whose answer the ledger never recorded: the brokers went away
 * mid-request, or the producer was killed (kill -9) between sending and recording. Each may or may
 * not have landed. recon looks on the input topic, from where the run's messages could start, for
 * messages carrying the run's header; what it finds is counted in the ledger as acknowledged, and
 * the in-doubt row goes. After this the ledger counts exactly what the run put on the topic, so a
 * failed or killed run is reconciled like any other. A request of a live producer may be looked up
 * too: the ledger's transaction checks the row is unchanged, and never counts an offset twice.
 * A run whose producer stopped writing heartbeats is marked failed first (see below).
 */
import type { Kafka } from "kafkajs";
import { RUN_HEADER, type Ledger, type RunRow } from "../ledger/ledger.ts";
import { readTopicSnapshot } from "../kafka/snapshot.ts";
import { log } from "../ui/log.ts";

/** Offsets as contiguous segments (a request's messages for one partition are one record batch). */
export function segmentsOf(offsets: readonly number[]): { firstOffset: number; count: number }[] {
  const sorted = [...offsets].sort((a, b) => a - b);
  const segments: { firstOffset: number; count: number }[] = [];
  for (const offset of sorted) {
    const last = segments.at(-1);
    if (last && last.firstOffset + last.count === offset) last.count++;
    else segments.push({ firstOffset: offset, count: 1 });
  }
  return segments;
}

/**
 * A run that says running but whose producer wrote no heartbeat for `heartbeatTimeoutMs` was killed
 * (or its machine went down): it is marked failed first, so a request of it that never landed is
 * settled as such instead of staying in doubt for good.
 */
export async function settleRequestsInDoubt(
  kafka: Kafka,
  ledger: Ledger,
  runs: readonly RunRow[],
  inputTopic: string,
  heartbeatTimeoutMs: number,
): Promise<void> {
  for (const run of ledger.failSilentRuns(runs.map((run) => run.id), heartbeatTimeoutMs)) log.warn(`run ${run.id}: ${run.error}; marked failed`);
  for (const run of runs) {
    const entries = ledger.inDoubt(run.id).filter((entry) => entry.topic === inputTopic);
    if (entries.length === 0) continue;
    const from = new Map(entries.map((entry) => [entry.partition, BigInt(entry.from_offset)]));
    const found = new Map<number, number[]>(entries.map((entry) => [entry.partition, []]));
    // The snapshot reads only these partitions, each from its entry's offset on.
    await readTopicSnapshot(
      kafka,
      inputTopic,
      (partition, messages) => {
        for (const message of messages) {
          if (String(message.headers?.[RUN_HEADER] ?? "") === run.id) found.get(partition)!.push(Number(message.offset));
        }
      },
      { from, partitions: new Set(from.keys()) },
    );
    for (const entry of entries) {
      const segments = segmentsOf(found.get(entry.partition)!);
      const landed = segments.reduce((sum, segment) => sum + segment.count, 0);
      const outcome = ledger.settleInDoubt(run.id, entry, segments);
      if (outcome === "answered") continue; // its producer recorded the answer meanwhile
      if (outcome === "pending") {
        log.info(
          `run ${run.id}: ${entry.count} records sent to partition ${entry.partition} are not on the topic yet; ` +
            "its producer is alive (a heartbeat within ledger.heartbeat_timeout), so they stay in doubt",
        );
        continue;
      }
      log.info(
        `run ${run.id}: ${entry.count} records sent to partition ${entry.partition} without an answer: ` +
          (landed === 0 ? "none landed" : `${landed} landed (offsets ${segments.map((s) => `${s.firstOffset}-${s.firstOffset + s.count - 1}`).join(", ")}), now counted`),
      );
    }
  }
}
