/**
 * Where a stage's CPU time goes: reads a `bun --cpu-prof` profile (.cpuprofile, Chrome's format)
 * of the compiled kstream and splits the sampled time by module — kafkajs protocol, the rest of
 * the Kafka client, Parquet, cleaning, JSON, codecs, GC and runtime, other — for scripts/bench.ts
 * --profile. A sample's time goes to the function on top of the stack; a native function (no
 * source file) counts as JSON when it is JSON.parse / JSON.stringify, as codecs when it is a
 * compressor, and otherwise as the nearest JavaScript caller's module (Buffer and TypedArray calls
 * made by the Parquet writer are Parquet time).
 *
 * Needs a binary built without --minify (function and file names intact): buildProfilingBinary.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const CATEGORIES = ["kafkajs protocol", "Kafka client", "Parquet", "cleaning", "JSON", "codecs", "GC & runtime", "other"] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CpuBreakdown {
  /** Sampled seconds in all. */
  totalSeconds: number;
  /** Share of the sampled time, 0-1, per category. */
  shares: Record<Category, number>;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const NATIVE_CODEC = /zstd|gzip|gunzip|deflate|inflate|lz4|snappy|brotli/i;

/** The module of a JavaScript function, by its source file; undefined for a native one. */
export function categoryOfUrl(url: string): Category | undefined {
  if (url === "") return undefined;
  if (/kafkajs\/src\/protocol\/|src\/kafka\/(fast-|crc32c)/.test(url)) return "kafkajs protocol";
  if (/hyparquet|src\/stream\/(parquet-writer|partition-sink|row-buffer)/.test(url)) return "Parquet";
  if (/src\/input\/json-scan|src\/clean\/flat-json/.test(url)) return "JSON";
  if (/src\/clean\//.test(url)) return "cleaning";
  if (/src\/compression\/|src\/kafka\/codecs/.test(url)) return "codecs";
  if (/kafkajs\/|src\/kafka\/|node:net|internal:streams|node:stream/.test(url)) return "Kafka client";
  return "other";
}

function categoryOf(node: ProfileNode, inherited: Category): Category {
  const { functionName, url } = node.callFrame;
  if (functionName === "(garbage collector)" || functionName === "(program)") return "GC & runtime";
  if (url === "") {
    if (functionName === "parse" || functionName === "stringify") return "JSON";
    if (NATIVE_CODEC.test(functionName)) return "codecs";
    return inherited;
  }
  return categoryOfUrl(url) ?? inherited;
}

/**
 * The longest time one sample stands for: twice the median interval. A sample's delta is the time
 * since the one before, so the first sample after the thread waited (for the broker, for a
 * timer) or was stopped by a collection would otherwise be credited with the whole wait: that
 * put idle time on whatever ran next (a socket write, a fetch callback). Capped, the sampled
 * seconds are the thread's busy time.
 */
function busyCap(deltas: readonly number[]): number {
  if (deltas.length === 0) return 0;
  const sorted = [...deltas].sort((a, b) => a - b);
  return 2 * sorted[sorted.length >> 1]!;
}

/** The CPU breakdown of one .cpuprofile file: busy time (see busyCap) by category. */
export function cpuBreakdown(profilePath: string): CpuBreakdown {
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as CpuProfile;
  const cap = busyCap(profile.timeDeltas);
  const selfTime = new Map<number, number>();
  for (let index = 0; index < profile.samples.length; index++) {
    const id = profile.samples[index]!;
    selfTime.set(id, (selfTime.get(id) ?? 0) + Math.min(profile.timeDeltas[index] ?? 0, cap));
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const time = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<Category, number>;
  const stack: [number, Category][] = [[profile.nodes[0]!.id, "other"]];
  while (stack.length > 0) {
    const [id, inherited] = stack.pop()!;
    const node = byId.get(id)!;
    const category = categoryOf(node, inherited);
    time[category] += selfTime.get(id) ?? 0;
    for (const child of node.children ?? []) stack.push([child, category]);
  }
  const total = CATEGORIES.reduce((sum, category) => sum + time[category], 0);
  const shares = Object.fromEntries(CATEGORIES.map((category) => [category, total > 0 ? time[category] / total : 0])) as Record<Category, number>;
  return { totalSeconds: total / 1e6, shares };
}

/** Builds kstream without --minify (names kept for the profile) as `${dir}/kstream-profile`. */
export async function buildProfilingBinary(root: string, dir: string): Promise<string> {
  const outfile = join(dir, "kstream-profile");
  const build = Bun.spawn([join(root, "node_modules/.bin/bun"), "build", "--compile", "--sourcemap", "src/main.ts", "src/stream/clean-worker.ts", "src/input/scan-worker.ts", "--outfile", outfile,
    "--define", 'KSTREAM_VERSION="profile"', "--define", 'KSTREAM_COMMIT="profile"', "--define", 'KSTREAM_BUILT="profile"'], { cwd: root, stdout: "ignore", stderr: "inherit" });
  if ((await build.exited) !== 0) throw new Error("building the profiling binary failed");
  return outfile;
}

/** The environment that makes a Bun binary write its profile into `dir` when it exits. */
export function profilingEnv(dir: string): Record<string, string> {
  return { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` };
}

/** The Markdown table of the breakdowns, one row per stage. */
export function breakdownTable(rows: { stage: string; breakdown: CpuBreakdown }[]): string[] {
  const percent = (share: number) => `${(100 * share).toFixed(0)} %`;
  return [
    "",
    "CPU by module (`bun --cpu-prof` of a non-minified build, main thread; share of its busy time, idle gaps left out):",
    "",
    `| stage | busy s | ${CATEGORIES.join(" | ")} |`,
    `|---|---|${CATEGORIES.map(() => "---").join("|")}|`,
    ...rows.map(({ stage, breakdown }) => `| ${stage} | ${breakdown.totalSeconds.toFixed(2)} | ${CATEGORIES.map((category) => percent(breakdown.shares[category])).join(" | ")} |`),
  ];
}
