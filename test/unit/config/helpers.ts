/**
 * The config tests' setup, said once: config files written into a temporary folder, loaded alone
 * (the file given as --config, only the variables a test names, that folder as the working
 * directory), and the ConfigError a load must throw. What each test asserts stays in its file.
 */
import { expect } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LoadedConfig, loadConfig } from "../../../src/config/load.ts";
import { ConfigError } from "../../../src/errors.ts";
import { tempRoot } from "../helpers.ts";

export interface ConfigSandbox {
  /** The temporary folder, also the working directory of `load`. */
  root: string;
  /** Writes `text` as <root>/<folder>/kstream.toml (a fresh folder unless named) and returns its path. */
  writeConfig(text: string, folder?: string): string;
  /** loadConfig of `file` as --config, with only `env` as the environment. */
  load(file: string, env?: Record<string, string | undefined>): LoadedConfig;
}

/** A sandbox for one test file, removed after it; `name` goes into the folder's name. */
export function configSandbox(name: string): ConfigSandbox {
  const root = tempRoot(name);
  let cases = 0;
  return {
    root,
    writeConfig(text, folder = `case-${cases++}`) {
      const dir = join(root, folder);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "kstream.toml");
      writeFileSync(file, text);
      return file;
    },
    load: (file, env = {}) => loadConfig({ configFlag: file, env, cwd: root }),
  };
}

/** Runs `run`, which must throw a ConfigError, and returns that error for the test's own assertions. */
export function expectConfigError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}
