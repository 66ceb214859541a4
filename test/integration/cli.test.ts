import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import packageJson from "../../package.json" with { type: "json" };
import { createWorkspace, runKstream } from "./harness.ts";

const SUBCOMMANDS = ["produce", "stream-clean", "batch-measure", "recon", "metrics", "check", "config"];

describe("the kstream binary", () => {
  test("--version prints the package version, the git commit it was built from, the build date and the Bun version", async () => {
    const result = await runKstream(["--version"]);
    expect(result.exitCode).toBe(0);
    const [version, commit, built, bun] = result.stdout.trimEnd().split("\n");
    expect(version).toBe(`kstream ${packageJson.version}`);
    // git itself says which commit the work tree is at (dist/ is built from it).
    const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir }).stdout.toString().trim();
    expect(commit).toMatch(new RegExp(`^commit ${head}(\\+dirty)?$`));
    expect(built).toMatch(/^built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.now() - Date.parse(built!.slice("built ".length))).toBeLessThan(7 * 24 * 3600_000);
    expect(bun).toBe(`bun ${Bun.version} (${process.platform}-${process.arch})`);
  });

  test("--help lists every subcommand", async () => {
    const result = await runKstream(["--help"]);
    expect(result.exitCode).toBe(0);
    for (const name of SUBCOMMANDS) expect(result.stdout).toContain(name);
  });

  test.each(SUBCOMMANDS)("%s --help documents --config", async (name) => {
    const result = await runKstream([name, "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("--config");
  });

  test("an unknown subcommand is a usage error, exit 2", async () => {
    const result = await runKstream(["frobnicate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("frobnicate");
  });

  test("with --json a failure is also a JSON document on stdout carrying the error's stable code", async () => {
    const ws = createWorkspace("jsonfailure", "[rules]\ndefault_ip = \"999.1.1.1\"\n");
    const result = await ws.run(["produce", "--dry-run", "--json"]);
    expect(result.exitCode).toBe(2);
    const failure = JSON.parse(result.stdout) as { error: { code: string; exit_code: number; command: string; message: string } };
    expect(failure.error).toMatchObject({ code: "KSTREAM_CONFIG", exit_code: 2, command: "produce" });
    expect(failure.error.message).toContain("rules.default_ip");
  });

  test("a bad flag value with --json reports the usage code, and without --json stdout stays empty", async () => {
    const withJson = await runKstream(["produce", "--dry-run", "--rate", "fast", "--json"]);
    expect(withJson.exitCode).toBe(2);
    expect(JSON.parse(withJson.stdout).error.code).toBe("KSTREAM_USAGE");
    const without = await runKstream(["produce", "--dry-run", "--rate", "fast"]);
    expect(without.exitCode).toBe(2);
    expect(without.stdout).toBe("");
  });

  test("a bad config exits 2 with the key path and the file, in one line", async () => {
    const ws = createWorkspace("badconfig", "[rules]\ndefault_ip = \"999.1.1.1\"\n");
    const result = await ws.run(["produce", "--dry-run"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("rules.default_ip");
    expect(result.stderr).toContain(ws.configPath);
    expect(result.stderr.trim().split("\n").length).toBe(1);
  });

  test("a bad environment override exits 2 naming the variable", async () => {
    const ws = createWorkspace("badenv");
    const result = await ws.run(["config"], { env: { KSTREAM_TOPICS_PARTITIONS: "0" } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("topics.partitions");
    expect(result.stderr).toContain("KSTREAM_TOPICS_PARTITIONS");
  });

  test("config prints the effective config with secrets redacted, as TOML and JSON", async () => {
    const ws = createWorkspace("printconfig", '[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\n');
    const env = { KSTREAM_KAFKA_SASL_PASSWORD: "pa55-word", KSTREAM_TOPICS_STAGING: "from_env" };
    const toml = await ws.run(["config"], { env });
    expect(toml.exitCode).toBe(0);
    expect(toml.stdout).toContain('staging = "from_env"');
    expect(toml.stdout).not.toContain("pa55-word");
    const json = await ws.run(["config", "--json"], { env });
    const parsed = JSON.parse(json.stdout);
    expect(parsed.config.kafka.sasl.password).toBe("<redacted>");
    expect(parsed.config.topics.staging).toBe("from_env");
  });

  test("config --schema prints a JSON Schema that describes every section", async () => {
    const result = await runKstream(["config", "--schema"]);
    const schema = JSON.parse(result.stdout);
    expect(Object.keys(schema.properties)).toEqual(["kafka", "topics", "produce", "clean", "measure", "compact", "ledger", "rules", "s3"]);
    expect(schema.properties.clean.properties.file_max_rows.default).toBe(100000);
    expect(schema.properties.s3.properties.retry_limit.default).toBe("2 minutes");
  });

  test("the shipped config/kstream.toml is valid", async () => {
    const result = await runKstream(["config", "--config", `${import.meta.dir}/../../config/kstream.toml`]);
    expect(result.exitCode).toBe(0);
  });

  test("a secret in the config file is refused", async () => {
    const ws = createWorkspace("secretfile");
    writeFileSync(ws.configPath, '[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\npassword = "clear"\n');
    const result = await ws.run(["config"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("kafka.sasl.password");
  });
});
