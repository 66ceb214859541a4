/**
 * The release archive stands on its own: scripts/release.sh builds the linux-x64 archive (the one
 * this machine can run), its SHA256SUMS verifies with coreutils' sha256sum, and the binary
 * unpacked into an empty folder runs with an empty environment (no PATH, so no Bun and no
 * node_modules to lean on) through --version, --help, config and a produce -> stream-clean ->
 * recon round trip against the test broker, with kcat counting what landed on the broker.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { kcatConsume, type RunResult, workspaceToml } from "./harness.ts";

const REPO = resolve(import.meta.dir, "../..");
const archive = `kstream-${packageJson.version}-linux-x64`;
const releaseDir = mkdtempSync(join(tmpdir(), "kstream-release-"));
const home = mkdtempSync(join(tmpdir(), "kstream-release-run-"));
const suffix = `release_${process.pid}_${Date.now().toString(36)}`;

afterAll(() => {
  rmSync(releaseDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

beforeAll(() => {
  const build = Bun.spawnSync(["bash", "scripts/release.sh", "linux-x64"], { cwd: REPO, env: { ...process.env, RELEASE_DIR: releaseDir }, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`release.sh failed (${build.exitCode}):\n${build.stdout}\n${build.stderr}`);
  const unpack = Bun.spawnSync(["tar", "-xzf", join(releaseDir, `${archive}.tar.gz`), "-C", home]);
  if (unpack.exitCode !== 0) throw new Error(`tar failed: ${unpack.stderr}`);
}, 300_000);

/** The unpacked binary, run from its folder with nothing in its environment at all. */
async function runRelease(args: string[], stdin?: string): Promise<RunResult> {
  const child = Bun.spawn([join(home, archive, "kstream"), ...args], {
    cwd: home,
    env: {},
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

describe("release archive", () => {
  test("SHA256SUMS lists the archive and verifies with sha256sum -c", () => {
    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: releaseDir, stdout: "pipe", stderr: "pipe" });
    expect(check.stdout.toString().trim()).toBe(`${archive}.tar.gz: OK`);
    expect(check.exitCode).toBe(0);
    expect(readdirSync(join(home, archive)).sort()).toEqual(["README.md", "clean-worker.js.map", "kstream", "kstream.map", "scan-worker.js.map"]);
  });

  test("the unpacked binary prints its version, commit, build date and Bun version with an empty environment", async () => {
    const result = await runRelease(["--version"]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`kstream ${packageJson.version}`);
    expect(lines[1]).toMatch(/^commit [0-9a-f]{12}(\+dirty)?$/);
    expect(lines[2]).toMatch(/^built \d{4}-\d\d-\d\dT/);
    expect(lines[3]).toMatch(/^bun \d+\.\d+\.\d+ \(linux-x64\)$/);
  });

  test("--help and config work without Bun or node_modules anywhere", async () => {
    const help = await runRelease(["--help"]);
    expect(help.exitCode).toBe(0);
    for (const name of ["produce", "stream-clean", "batch-measure", "recon", "metrics", "config"]) expect(help.stdout).toContain(name);
    writeConfig();
    const config = await runRelease(["config", "--config", "kstream.toml"]);
    expect(config.exitCode).toBe(0);
    expect(config.stdout).toContain(`it_in_${suffix}`);
  });

  test("produce -> stream-clean -> recon round trip from the release binary: every record accounted for once", async () => {
    writeConfig();
    const records = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: i + 1, email: `u${i}@x.io`, country: "Chile", ts: "2026-01-01T00:00:00Z" }));
    writeFileSync(join(home, "in.ndjson"), `${records.join("\n")}\n`);
    const produce = await runRelease(["produce", "in.ndjson", "--config", "kstream.toml"]);
    expect(produce.exitCode).toBe(0);
    expect((await kcatConsume(`it_in_${suffix}`)).length).toBe(500);
    const clean = await runRelease(["stream-clean", "--until-caught-up", "--config", "kstream.toml"]);
    expect(clean.exitCode).toBe(0);
    const recon = await runRelease(["recon", "--json", "--config", "kstream.toml"]);
    expect(recon.exitCode).toBe(0);
    expect(JSON.parse(recon.stdout)).toMatchObject({ verdict: "ok", published: 500, pending: 0, missing: 0, duplicated: 0 });
    // The staging topic holds one message per landed row: kcat, not kstream, counts them.
    expect((await kcatConsume(`it_stage_${suffix}`)).length).toBe(JSON.parse(recon.stdout).landed);
  });
});

function writeConfig(): void {
  writeFileSync(join(home, "kstream.toml"), workspaceToml(suffix));
}
