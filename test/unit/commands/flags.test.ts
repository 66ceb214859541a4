import { describe, expect, test } from "bun:test";
import { type ArgsDef, parseArgs } from "citty";
import { batchMeasureFlags } from "../../../src/commands/batch-measure.ts";
import { defineFlags, numberValue, overrideFlag } from "../../../src/commands/flags.ts";
import { produceFlags } from "../../../src/commands/produce.ts";
import { streamCleanFlags } from "../../../src/commands/stream-clean.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { ConfigError, ErrorCode, UsageError } from "../../../src/errors.ts";

const flags = defineFlags({
  file: overrideFlag("produce.input", { type: "positional", required: false, description: "input file" }),
  rate: overrideFlag("produce.rate", { type: "string", description: "messages per second", valueHint: "N" }, numberValue()),
  limit: { type: "string", description: "publish at most N records", valueHint: "N" },
  rows: overrideFlag("clean.file_max_rows", { type: "string", description: "rows per file", valueHint: "N" }, numberValue({ integer: true, min: 1 })),
  name: overrideFlag("produce.name", { type: "string", description: "producer name", valueHint: "NAME" }),
  "dry-run": { type: "boolean", description: "publish nothing", default: false },
});

const commandFlags = { produce: produceFlags, "stream-clean": streamCleanFlags, "batch-measure": batchMeasureFlags };

/** What citty parses from `argv` with the declared args, turned into overrides. */
function overridesOf(set: { args: ArgsDef; overrides: typeof flags.overrides }, argv: readonly string[]) {
  return set.overrides(parseArgs([...argv], set.args));
}

function usageErrorOf(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("flag declarations", () => {
  test("citty sees each flag as declared, in declaration order, without the config key or parser", () => {
    expect(Object.keys(flags.args)).toEqual(["file", "rate", "limit", "rows", "name", "dry-run"]);
    expect(flags.args.rate).toEqual({ type: "string", description: "messages per second", valueHint: "N" });
    expect(flags.args.file).toEqual({ type: "positional", required: false, description: "input file" });
    expect(flags.args.limit).toEqual({ type: "string", description: "publish at most N records", valueHint: "N" });
  });

  test("a flag given sets its config key to the parsed value and is named as the key's origin", () => {
    expect(overridesOf(flags, ["--rate", "2.5", "--name", "nightly"])).toEqual({
      overrides: { produce: { rate: 2.5, name: "nightly" } },
      origins: { "produce.rate": "--rate", "produce.name": "--name" },
    });
  });

  test("the positional argument is named by its upper-case name as the key's origin", () => {
    expect(overridesOf(flags, ["data.ndjson"])).toEqual({ overrides: { produce: { input: "data.ndjson" } }, origins: { "produce.input": "FILE argument" } });
  });

  test("flags not given, and flags that override nothing, set no config key", () => {
    expect(overridesOf(flags, ["--limit", "5", "--dry-run"])).toEqual({ overrides: {}, origins: {} });
  });

  test("a value that does not parse is a usage error naming the flag", () => {
    const error = usageErrorOf(() => overridesOf(flags, ["--rate", "fast"]));
    expect(error.code).toBe(ErrorCode.usage);
    expect(error.message).toContain("--rate");
    expect(error.message).toContain('"fast"');
  });

  test("a number below the flag's minimum or not whole where it must be is a usage error naming the flag", () => {
    expect(usageErrorOf(() => overridesOf(flags, ["--rows", "0"])).message).toContain("--rows");
    expect(usageErrorOf(() => overridesOf(flags, ["--rows", "1.5"])).message).toContain("--rows");
    expect(usageErrorOf(() => overridesOf(flags, ["--rate", ""])).message).toContain("--rate");
  });

  test("a value the config refuses is reported against the flag that set it", () => {
    const { overrides, origins } = overridesOf(flags, ["--name", ""]);
    let error: unknown;
    try {
      loadConfig({ env: {}, cwd: "/nonexistent", overrides, overrideOrigins: origins });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe("produce.name: must not be empty (in --name)");
  });
});

describe("the commands' override flags", () => {
  test.each([
    ["produce", "in.ndjson", "produce.input", "in.ndjson", "FILE argument"],
    ["produce", "--rate 3", "produce.rate", 3, "--rate"],
    ["produce", "--name p1", "produce.name", "p1", "--name"],
    ["produce", "--topic t1", "topics.input", "t1", "--topic"],
    ["stream-clean", "--group g1", "clean.group_id", "g1", "--group"],
    ["stream-clean", "--parquet-dir pq", "clean.parquet_dir", "pq", "--parquet-dir"],
    ["stream-clean", "--file-max-rows 10", "clean.file_max_rows", 10, "--file-max-rows"],
    ["stream-clean", "--file-max-age 5s", "clean.file_max_age", "5s", "--file-max-age"],
    ["batch-measure", "--output -", "measure.output", "-", "--output"],
  ] as const)("%s %s sets %s", (command, argv, key, value, origin) => {
    const [section, name] = key.split(".") as [string, string];
    expect(overridesOf(commandFlags[command], argv.split(" "))).toEqual({ overrides: { [section]: { [name]: value } }, origins: { [key]: origin } });
  });

  test("stream-clean refuses a file-max-rows that is not a whole number of at least 1", () => {
    expect(usageErrorOf(() => overridesOf(commandFlags["stream-clean"], ["--file-max-rows", "0"])).message).toBe('--file-max-rows expects a whole number of at least 1, got "0"');
  });
});
