/**
 * What every subcommand shares: the flags defined once and spread into each command, and the
 * start-up step that applies --verbose/--quiet, loads the config and reports its warnings.
 */
import type { ArgDef } from "citty";
import { durationMs } from "../config/duration.ts";
import { type ConfigOverrides, type LoadedConfig, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import { openParquetStore } from "../storage/open.ts";
import type { ParquetStore } from "../storage/store.ts";
import { UsageError } from "../errors.ts";
import { log, setVerbosity } from "../ui/log.ts";

export const commonArgs = {
  config: {
    type: "string",
    description: "config file (default: $KSTREAM_CONFIG, then ./config/kstream.toml)",
    valueHint: "FILE",
  },
  verbose: { type: "boolean", description: "debug logs, and stack traces on errors", default: false },
  quiet: { type: "boolean", description: "only warnings and errors on stderr", default: false },
} as const satisfies Record<string, ArgDef>;

export const jsonArg = {
  json: { type: "boolean", description: "machine-readable JSON on stdout", default: false },
} as const satisfies Record<string, ArgDef>;

export interface CommonFlags {
  config?: string | undefined;
  verbose?: boolean | undefined;
  quiet?: boolean | undefined;
}

/** The config overrides a command line sets, and the flag (or argument) behind each key path. */
export interface FlagOverrides {
  readonly overrides: ConfigOverrides;
  /** "produce.rate" → "--rate", for error messages and `kstream config`. */
  readonly origins: Readonly<Record<string, string>>;
}

/** Loads the config for a command, with the overrides its flags set (see flags.ts). */
export function startCommand(flags: CommonFlags, fromFlags: FlagOverrides = { overrides: {}, origins: {} }): LoadedConfig {
  setVerbosity({ verbose: flags.verbose, quiet: flags.quiet });
  const loaded = loadConfig({ configFlag: flags.config, overrides: fromFlags.overrides, overrideOrigins: fromFlags.origins });
  for (const warning of loaded.warnings) log.warn(warning);
  log.debug(`config: ${loaded.file ?? "built-in defaults (no config file found)"}`);
  return loaded;
}

/**
 * Restarts this process (same pid, same arguments: execve) with JavaScriptCore told that the
 * machine has `megabytes` of RAM, so the garbage collector keeps a long-running job's heap near
 * that size instead of letting it grow with the machine's 24 GB. JSC reads its options only at
 * start-up, hence the exec; nothing has been done yet when this runs.
 *
 * `growthFactor`, when given, is how far JSC lets a heap past half that RAM grow between full
 * collections (its largeHeapGrowthFactor, 1.24 by default): the default collects so often near the
 * target that the collector took a fifth of stream-clean's time (README "Performance"). A value
 * the user set in BUN_JSC_largeHeapGrowthFactor wins.
 */
export function restartWithHeapTarget(megabytes: number, growthFactor?: number): void {
  const wanted = heapTargetEnv(megabytes, growthFactor, process.env);
  if (Object.entries(wanted).every(([name, value]) => process.env[name] === value) || typeof process.execve !== "function") return;
  const compiled = process.argv[1]?.startsWith("/$bunfs/") ?? false;
  const argv = compiled ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.argv.slice(1)];
  process.execve(process.execPath, argv, { ...process.env, ...wanted });
}

/** The JSC options of a heap target: the RAM it is told the machine has, and the growth factor unless `env` sets one. */
export function heapTargetEnv(megabytes: number, growthFactor: number | undefined, env: Record<string, string | undefined>): Record<string, string> {
  const wanted: Record<string, string> = { BUN_JSC_forceRAMSize: String(megabytes * 1024 * 1024) };
  if (growthFactor !== undefined && env.BUN_JSC_largeHeapGrowthFactor === undefined) wanted.BUN_JSC_largeHeapGrowthFactor = String(growthFactor);
  return wanted;
}

/** Parses a numeric flag; citty hands every value over as a string. */
export function numberFlag(value: string | undefined, flag: string, options: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  const { integer = false, min = 0 } = options;
  if (value.trim() === "" || !Number.isFinite(number) || (integer && !Number.isInteger(number)) || number < min) {
    throw new UsageError(`--${flag} expects ${integer ? "a whole number" : "a number"} of at least ${min}, got "${value}"`);
  }
  return number;
}

/**
 * Every value of a repeatable flag (`--topic a --topic b`, `--topic=a,b`): citty keeps only the
 * last, so the raw arguments are read once more.
 */
export function repeatedFlag(rawArgs: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${flag}`) {
      const value = rawArgs[i + 1];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`--${flag} needs a value`);
      values.push(value);
      i++;
    } else if (arg.startsWith(`--${flag}=`)) values.push(arg.slice(flag.length + 3));
  }
  return values.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
}

/** The ledger the config names, waiting ledger.lock_timeout for another process's lock. */
export function openConfiguredLedger(config: Config): Ledger {
  return openLedger(config.ledger.path, { busyTimeoutMs: durationMs(config.ledger.lock_timeout) });
}

/** The store clean.parquet_dir names (a folder or an s3:// bucket), with the [s3] table's settings. */
export function configuredParquetStore(config: Config): ParquetStore {
  const { request_timeout, retry_limit, part_size_mb, ...table } = config.s3;
  return openParquetStore(config.clean.parquet_dir, {
    table,
    requestTimeoutMs: durationMs(request_timeout),
    retryLimitMs: durationMs(retry_limit),
    partSize: part_size_mb * 1024 * 1024,
  });
}
