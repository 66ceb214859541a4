/**
 * Finds, reads and validates the config file, then layers the environment and the command's flags
 * on top (SPEC.md "Config file"): `--config FILE`, else $KSTREAM_CONFIG, else ./config/kstream.toml;
 * KSTREAM_<SECTION>_<KEY> overrides; flags override both. Relative paths in the file resolve against
 * the file's folder; relative paths from the environment or flags against the working directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { ConfigError, errnoOrMessage } from "../errors.ts";
import { hasScheme } from "../storage/location.ts";
import { type Config, ConfigSchema, PATH_KEYS, SECRET_ENV } from "./schema.ts";

export const DEFAULT_CONFIG_PATH = "config/kstream.toml";

/** The values a command's flags set, already typed: `{ produce: { rate: 2 } }`. */
export type ConfigOverrides = { [S in keyof Config]?: Partial<Config[S]> };

export interface Secrets {
  readonly saslPassword?: string;
  readonly tlsKeyPassword?: string;
  /** The S3 secret access key as storage/s3-config.ts picks it: its file when named, else AWS_SECRET_ACCESS_KEY. */
  readonly s3SecretAccessKey?: string;
}

export interface LoadedConfig {
  readonly config: Config;
  /** The file read, or undefined when none exists and the built-in defaults apply. */
  readonly file: string | undefined;
  readonly secrets: Secrets;
  /** Where each overridden key came from ("KSTREAM_TOPICS_INPUT", "--rate"), for `kstream config`. */
  readonly origins: Readonly<Record<string, string>>;
  /** KSTREAM_<SECTION>_* variables that name no key: most likely typos, so they are reported. */
  readonly warnings: readonly string[];
}

export interface LoadOptions {
  /** Value of --config. */
  readonly configFlag?: string | undefined;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly overrides?: ConfigOverrides;
  /** Names the flag behind each override key path, for error messages ("produce.rate" → "--rate"). */
  readonly overrideOrigins?: Readonly<Record<string, string>>;
}

type Table = Record<string, unknown>;

export function locateConfigFile(
  configFlag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): { path: string; required: boolean } {
  if (configFlag) return { path: resolve(cwd, configFlag), required: true };
  if (env.KSTREAM_CONFIG) return { path: resolve(cwd, env.KSTREAM_CONFIG), required: true };
  return { path: resolve(cwd, DEFAULT_CONFIG_PATH), required: false };
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const located = locateConfigFile(options.configFlag, env, cwd);
  const file = existsSync(located.path) ? located.path : undefined;
  if (!file && located.required) throw new ConfigError("config file not found", undefined, located.path);

  const raw: Table = file ? readToml(file) : {};
  rejectSecretsInFile(raw, file);

  const origins: Record<string, string> = {};
  applyEnvironment(raw, env, cwd, origins);
  applyOverrides(raw, options.overrides ?? {}, cwd, origins, options.overrideOrigins ?? {});

  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    const issue = result.issues[0];
    const keyPath = v.getDotPath(issue) ?? undefined;
    const where = (keyPath && origins[keyPath]) ?? file ?? "built-in defaults";
    throw new ConfigError(describeIssue(issue), keyPath, where);
  }
  // Env and flag paths were made absolute against the working directory on the way in, so this
  // only moves the file's relative paths (and the built-in defaults) under the file's folder.
  resolvePaths(result.output as unknown as Table, file ? dirname(file) : cwd);
  return { config: result.output, file, secrets: readSecrets(result.output, env), origins, warnings: unknownVariables(env) };
}

/** A KSTREAM_KAFKA_BROKER (no S) would otherwise be ignored without a word. */
function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = new Set<string>([...leafKeys().map((leaf) => leaf.envName), ...Object.values(SECRET_ENV)]);
  const sections = Object.keys(ConfigSchema.entries).map((section) => `KSTREAM_${section.toUpperCase()}_`);
  return Object.keys(env)
    .filter((name) => sections.some((prefix) => name.startsWith(prefix)) && !known.has(name))
    .map((name) => `${name} is set but names no config key; it is ignored`);
}

function readToml(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file: ${(error as Error).message}`, undefined, file);
  }
  try {
    return parseToml(text) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0];
      throw new ConfigError(`${file}:${error.line}:${error.column}: ${firstLine}`, undefined, undefined);
    }
    throw error;
  }
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.input !== undefined) return "unknown key";
  return issue.message;
}

/**
 * Secrets written into the config file are refused, not ignored nor used: a config file is copied,
 * committed and printed, and a password that works from it would stay there. The message names the
 * key and the two accepted sources, never the value.
 */
function rejectSecretsInFile(raw: Table, file: string | undefined): void {
  for (const [keyPath, envName] of Object.entries(SECRET_ENV)) {
    if (getPath(raw, keyPath) !== undefined) {
      throw new ConfigError(
        `a secret is not read from the config file (files get copied, committed and printed); remove it, then set ${envName} or name a file holding it with ${keyPath}_file`,
        keyPath,
        file,
      );
    }
  }
  // A PEM private key pasted where a path belongs would otherwise only be an "unknown key".
  for (const [keyPath, fileKey] of Object.entries(INLINE_KEY_MATERIAL)) {
    if (getPath(raw, keyPath) !== undefined) {
      throw new ConfigError(
        `a private key is not read from the config file; remove it, put the PEM in a file only kstream's user can read and name it with ${fileKey}`,
        keyPath,
        file,
      );
    }
  }
}

/** Key material someone may paste inline, and the path key it belongs in. */
const INLINE_KEY_MATERIAL = { "kafka.tls.key": "kafka.tls.key_file" } as const;

function resolvePaths(raw: Table, baseDir: string): void {
  for (const keyPath of PATH_KEYS) {
    const value = getPath(raw, keyPath);
    if (typeof value === "string" && value !== "-" && value !== "" && !isAbsolute(value) && !hasScheme(value)) {
      setPath(raw, keyPath, resolve(baseDir, value));
    }
  }
}

/** Every leaf key of the schema with its env name and the kind of value it takes. */
function leafKeys(): Array<{ keyPath: string; envName: string; kind: string }> {
  const leaves: Array<{ keyPath: string; envName: string; kind: string }> = [];
  const walk = (entries: Record<string, v.GenericSchema>, prefix: string) => {
    for (const [key, schema] of Object.entries(entries)) {
      const inner = unwrap(schema);
      const keyPath = prefix ? `${prefix}.${key}` : key;
      if (inner.type === "strict_object" || inner.type === "object") {
        walk((inner as unknown as { entries: Record<string, v.GenericSchema> }).entries, keyPath);
      } else {
        leaves.push({ keyPath, envName: `KSTREAM_${keyPath.replaceAll(".", "_").toUpperCase()}`, kind: inner.type });
      }
    }
  };
  walk(ConfigSchema.entries as unknown as Record<string, v.GenericSchema>, "");
  return leaves;
}

function unwrap(schema: v.GenericSchema): v.GenericSchema {
  let current = schema as v.GenericSchema & { wrapped?: v.GenericSchema };
  while (current.type === "optional" && current.wrapped) current = current.wrapped as typeof current;
  return current;
}

function applyEnvironment(raw: Table, env: Record<string, string | undefined>, cwd: string, origins: Record<string, string>): void {
  for (const { keyPath, envName, kind } of leafKeys()) {
    const text = env[envName];
    if (text === undefined) continue;
    let value: unknown = text;
    if (kind === "number") {
      value = text.trim() === "" ? Number.NaN : Number(text.replaceAll("_", ""));
      if (Number.isNaN(value)) throw new ConfigError(`expected a number, got "${text}"`, keyPath, envName);
    } else if (kind === "boolean") {
      if (!/^(true|false|1|0)$/i.test(text)) throw new ConfigError(`expected true or false, got "${text}"`, keyPath, envName);
      value = /^(true|1)$/i.test(text);
    } else if (kind === "array") {
      value = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
    }
    if (isPathKey(keyPath) && typeof value === "string" && value !== "-" && !hasScheme(value)) value = resolve(cwd, value);
    setPath(raw, keyPath, value);
    origins[keyPath] = envName;
  }
}

function applyOverrides(
  raw: Table,
  overrides: ConfigOverrides,
  cwd: string,
  origins: Record<string, string>,
  flagNames: Readonly<Record<string, string>>,
): void {
  for (const [section, values] of Object.entries(overrides)) {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined) continue;
      const keyPath = `${section}.${key}`;
      const resolved = isPathKey(keyPath) && typeof value === "string" && value !== "-" && !hasScheme(value) ? resolve(cwd, value) : value;
      setPath(raw, keyPath, resolved);
      origins[keyPath] = flagNames[keyPath] ?? "command line";
    }
  }
}

function readSecrets(config: Config, env: Record<string, string | undefined>): Secrets {
  const fromFile = (path: string | undefined, keyPath: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw new ConfigError(`cannot read secret file ${path}: ${errnoOrMessage(error)}`, keyPath, undefined);
    }
  };
  return {
    saslPassword: env[SECRET_ENV["kafka.sasl.password"]] ?? fromFile(config.kafka.sasl?.password_file, "kafka.sasl.password_file"),
    tlsKeyPassword:
      env[SECRET_ENV["kafka.tls.key_password"]] ?? fromFile(config.kafka.tls?.key_password_file, "kafka.tls.key_password_file"),
    // Read only when the file is named: an [s3] table is optional and mostly unused.
    s3SecretAccessKey: config.s3.secret_access_key_file !== undefined ? fromFile(config.s3.secret_access_key_file, "s3.secret_access_key_file") : env[SECRET_ENV["s3.secret_access_key"]],
  };
}

function isPathKey(keyPath: string): boolean {
  return (PATH_KEYS as readonly string[]).includes(keyPath);
}

function getPath(table: Table, keyPath: string): unknown {
  let current: unknown = table;
  for (const part of keyPath.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Table)[part];
  }
  return current;
}

function setPath(table: Table, keyPath: string, value: unknown): void {
  const parts = keyPath.split(".");
  let current = table;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) current[part] = {};
    current = current[part] as Table;
  }
  current[parts.at(-1)!] = value;
}
