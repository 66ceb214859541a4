/**
 * A healthy run is quiet: produce, stream-clean --until-caught-up, batch-measure, recon and
 * metrics on the test broker print no WARN or ERROR line on stderr (a person reads those as
 * "look at this"), while a real fault, the broker stopped, still gets its warning.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { createWorkspace, type Workspace } from "./harness.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

/** Lines a person would read as trouble: consola's plain "[warn]"/"[error]" and its TTY badges. */
const alarming = (stderr: string): string[] => stderr.split("\n").filter((line) => /\[(warn|error)\]|\bWARN\b|\bERROR\b/.test(line));

describe("a healthy run is quiet", () => {
  test("every job of a clean pipeline run prints no WARN or ERROR line", async () => {
    const ws = createWorkspace("quiet");
    workspaces.push(ws);
    const lines = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ id: i + 1, email: `u${i}@x.io`, country: "Chile", ts: "2026-01-01T00:00:00Z" }));
    writeFileSync(ws.path("in.ndjson"), `${lines.join("\n")}\n`);
    const runs = [
      ["produce", ws.path("in.ndjson")],
      ["stream-clean", "--until-caught-up"],
      ["batch-measure"],
      ["recon"],
      ["metrics"],
      ["metrics", "--prometheus"],
    ];
    for (const args of runs) {
      const result = await ws.run(args, { timeoutMs: 170_000 });
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 0 });
      expect({ args, alarming: alarming(result.stderr) }).toEqual({ args, alarming: [] });
    }
  });

  test("a stopped broker still gets a warning, then one error line and exit 1", async () => {
    const ws = createWorkspace("quiet-fault");
    workspaces.push(ws);
    // Nothing listens on this port: a broker that has been stopped.
    const result = await ws.run(["stream-clean", "--until-caught-up"], { env: { KSTREAM_KAFKA_BROKERS: "127.0.0.1:19147", KSTREAM_KAFKA_RETRY_LIMIT: "12s" }, timeoutMs: 90_000 });
    expect(result.exitCode).toBe(1);
    const trouble = alarming(result.stderr);
    expect(trouble.some((line) => line.startsWith("[warn] kafka: 127.0.0.1:19147 unreachable for"))).toBe(true);
    expect(trouble.at(-1)).toMatch(/^\[error\] kstream stream-clean: cannot reach the brokers/);
  });
});
