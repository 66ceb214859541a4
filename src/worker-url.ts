/**
 * Where a Worker's entry point is, for the modules that start one (stream/clean-pool.ts,
 * input/scan-thread.ts). From source it is the starting module's neighbour. In a compiled binary
 * (scripts/build.sh lists every worker as an entry point) every module's URL is the binary's own,
 * and the worker sits at its path below src/ from the binary's root.
 */
export function workerEntryUrl(entry: string, base: string): URL {
  const compiled = base.includes("/$bunfs/") || base.includes("~BUN");
  return new URL(compiled ? `./${entry}` : `./${entry.slice(entry.lastIndexOf("/") + 1)}`, base);
}
