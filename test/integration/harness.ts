/**
 * What the integration tests share: the compiled binary (tests run dist/kstream, as users and cron
 * do), a throw-away workspace per test with its own topics, config and output folders, and kcat
 * (a tool we did not write) to read what landed on the broker.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const KSTREAM_BIN = resolve(import.meta.dir, "../../dist/kstream");
export const BROKER = process.env.KSTREAM_TEST_BROKER ?? "127.0.0.1:9092";

if (!existsSync(KSTREAM_BIN)) throw new Error(`${KSTREAM_BIN} is missing: run \`bun run build\` first (scripts/test.sh does)`);

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Workspace {
  readonly dir: string;
  readonly configPath: string;
  readonly topics: { input: string; staging: string; dead_letter: string };
  /** Runs the compiled kstream with this workspace's config. */
  run(args: string[], options?: { stdin?: string | Uint8Array; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  path(...parts: string[]): string;
}

let counter = 0;

/** A workspace's config: topics, group and folders named by `suffix`, the test broker, then `extraToml`. */
export function workspaceToml(suffix: string, extraToml = ""): string {
  return `[kafka]
brokers = ["${BROKER}"]
client_id = "kstream-it"

[topics]
input = "it_in_${suffix}"
staging = "it_stage_${suffix}"
dead_letter = "it_dlq_${suffix}"
partitions = 3

[clean]
group_id = "it_group_${suffix}"
parquet_dir = "out/parquet"
file_max_age = "2s"

[measure]
output = "out/measures.csv"

[ledger]
path = "out/ledger.db"
${extraToml}`;
}

/** A fresh folder, fresh topic names and a config pointing at them: tests never see each other's data. */
export function createWorkspace(label: string, extraToml = ""): Workspace {
  const dir = mkdtempSync(join(tmpdir(), `kstream-it-${label}-`));
  const suffix = `${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const topics = { input: `it_in_${suffix}`, staging: `it_stage_${suffix}`, dead_letter: `it_dlq_${suffix}` };
  const configPath = join(dir, "kstream.toml");
  writeFileSync(configPath, workspaceToml(suffix, extraToml));
  return {
    dir,
    configPath,
    topics,
    path: (...parts) => join(dir, ...parts),
    run: (args, options = {}) => runKstream([...args, "--config", configPath], { cwd: dir, ...options }),
  };
}

export async function runKstream(
  args: string[],
  options: { cwd?: string; stdin?: string | Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  delete env.KSTREAM_CONFIG;
  const child = Bun.spawn([KSTREAM_BIN, ...args], {
    cwd: options.cwd,
    env,
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers: string[] | null;
}

/** Reads a whole topic with kcat (-J envelopes), committed messages only. */
export async function kcatConsume(topic: string, options: { isolation?: "read_committed" | "read_uncommitted" } = {}): Promise<KcatMessage[]> {
  const child = Bun.spawn(
    ["kcat", "-b", BROKER, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J", "-X", `isolation.level=${options.isolation ?? "read_committed"}`],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) throw new Error(`kcat failed (${exitCode}): ${stderr}`);
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as KcatMessage);
}

/** kcat -J lists headers as a flat [name, value, name, value…] array. */
export function headerValue(message: KcatMessage, name: string): string | undefined {
  const headers = message.headers ?? [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

export function parseJsonOutput<T>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.exitCode}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
