/**
 * Fault points for the exactly-once and produce tests. With KSTREAM_FAULT=<point>:<n> the process kills itself
 * (SIGKILL, as a power cut or OOM killer would) the n-th time it reaches <point>; with
 * KSTREAM_FAULT=<point>:<n>:fail it throws there instead, as kafkajs does when a broker closes the
 * connection (retriable), so the tests can drive the in-process recovery of a cycle whose commit
 * outcome is unknown. Unset in normal runs, where `crashPoint` is a no-op. The points are the steps
 * of a cycle that make something durable, so the tests can fail between each pair of them, the
 * start of a partition's transactional producer, a clean worker about to encode a cycle's Parquet
 * (there "fail" throws inside the worker, which the run sees as the worker failing), an S3
 * multipart upload between its parts, and
 * (produce) the moments before a request is sent and between its landing and its answer arriving.
 * compact's points are the steps of one swap: its manifest written, the merged file in place, the
 * first original deleted, every original deleted.
 */
export type CrashPoint =
  | "mid-batch"
  | "before-rename"
  | "after-rename"
  | "after-commit"
  | "in-transaction"
  | "before-send"
  | "answer-lost"
  | "worker-start"
  | "clean-encode"
  | "mid-multipart"
  | "compact-intent"
  | "compact-merged"
  | "compact-deleting"
  | "compact-cleared";

const [configuredPoint, configuredCount, configuredMode] = (process.env.KSTREAM_FAULT ?? "").split(":");
let remaining = Number(configuredCount ?? 1) || 1;

export function crashPoint(point: CrashPoint): void {
  if (configuredPoint !== point) return;
  remaining--;
  if (remaining !== 0) return;
  if (configuredMode === "fail") {
    throw Object.assign(new Error(`Closed connection (injected at ${point} by KSTREAM_FAULT)`), { name: "KafkaJSConnectionClosedError", retriable: true });
  }
  process.kill(process.pid, "SIGKILL");
}
