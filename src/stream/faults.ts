/**
 * Crash points for the exactly-once tests: with KSTREAM_FAULT=<point>:<n> the process kills itself
 * (SIGKILL, as a power cut or OOM killer would) the n-th time it reaches <point>. Unset in normal
 * runs, where `crashPoint` is a no-op. The points are the steps of a cycle that make something
 * durable, so the tests can crash between each pair of them.
 */
export type CrashPoint = "mid-batch" | "before-rename" | "after-rename" | "after-commit" | "in-transaction";

const [configuredPoint, configuredCount] = (process.env.KSTREAM_FAULT ?? "").split(":");
let remaining = Number(configuredCount ?? 1) || 1;

export function crashPoint(point: CrashPoint): void {
  if (configuredPoint !== point) return;
  remaining--;
  if (remaining === 0) process.kill(process.pid, "SIGKILL");
}
