/**
 * A command's own flags, each declared once. A flag that overrides a config key is declared with
 * that key and how its text becomes the key's value; the citty `args` (help, parsing) and the
 * config overrides with the flag behind each key (for error messages and `kstream config`) are
 * both derived from that one declaration, so the two cannot drift apart. An override flag has no
 * default of its own: absent, the value from the file, the environment or the schema stands.
 */
import type { ArgDef, PositionalArgDef, StringArgDef } from "citty";
import type { ConfigOverrides } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import type { ServeAddress } from "../prometheus/listen.ts";
import { type FlagOverrides, numberFlag } from "./shared.ts";

/** "produce.rate": a config section and one of its keys. */
export type ConfigKey = { [S in keyof Config]: `${S}.${Extract<keyof Config[S], string>}` }[keyof Config];

/** The type the config holds at `K`: what the flag's text must be parsed into. */
export type ConfigValue<K extends ConfigKey> = K extends `${infer S extends keyof Config}.${infer Key}`
  ? Key extends keyof Config[S]
    ? Config[S][Key]
    : never
  : never;

/** Turns a flag's text into a config value; throws a UsageError naming `--flag` when it cannot. */
export type ParseFlag<T> = (text: string, flag: string) => T;

/** The citty side of an override flag: a named option or the optional positional argument. */
export type OverrideArgDef =
  | (Pick<StringArgDef, "description" | "valueHint"> & { type: "string" })
  | (Pick<PositionalArgDef, "description"> & { type: "positional"; required: false });

export interface OverrideFlag<A extends OverrideArgDef = OverrideArgDef> {
  readonly arg: A;
  readonly key: ConfigKey;
  readonly parse: ParseFlag<unknown>;
}

/**
 * A flag that overrides config key `key`. Keys that hold text take the flag's text as it is;
 * any other key needs `parse`.
 */
export function overrideFlag<K extends ConfigKey, const A extends OverrideArgDef>(
  key: K,
  arg: A,
  ...parse: string extends ConfigValue<K> ? [ParseFlag<ConfigValue<K>>?] : [ParseFlag<ConfigValue<K>>]
): OverrideFlag<A> {
  return { arg, key, parse: parse[0] ?? ((text) => text) };
}

/** Parses a number flag (see numberFlag), for overrideFlag. */
export function numberValue(options: { integer?: boolean; min?: number } = {}): ParseFlag<number> {
  return (text, flag) => numberFlag(text, flag, options)!;
}

type FlagDecl = ArgDef | OverrideFlag;

/** The citty declaration of each flag, in the order declared (the order `--help` lists them in). */
export type CittyArgs<T extends Record<string, FlagDecl>> = { [N in keyof T]: T[N] extends OverrideFlag<infer A> ? A : T[N] };

export interface FlagSet<T extends Record<string, FlagDecl>> {
  readonly args: CittyArgs<T>;
  /** The overrides from citty's parsed values; a flag not given sets nothing. */
  overrides(values: Readonly<Record<string, unknown>>): FlagOverrides;
}

/** A command's own flags: plain citty flags and override flags, in the order `--help` shows them. */
export function defineFlags<const T extends Record<string, FlagDecl>>(declared: T): FlagSet<T> {
  const entries = Object.entries(declared);
  const args = Object.fromEntries(entries.map(([name, decl]) => [name, isOverride(decl) ? decl.arg : decl])) as CittyArgs<T>;
  const overriding = entries.filter((entry): entry is [string, OverrideFlag] => isOverride(entry[1]));
  return {
    args,
    overrides(values) {
      const overrides: Record<string, Record<string, unknown>> = {};
      const origins: Record<string, string> = {};
      for (const [name, flag] of overriding) {
        const text = values[name];
        if (text === undefined) continue;
        const [section, key] = splitKey(flag.key);
        (overrides[section] ??= {})[key] = flag.parse(String(text), name);
        origins[flag.key] = flag.arg.type === "positional" ? `${name.toUpperCase()} argument` : `--${name}`;
      }
      return { overrides: overrides as ConfigOverrides, origins };
    },
  };
}

function isOverride(decl: FlagDecl): decl is OverrideFlag {
  return "key" in decl && "arg" in decl;
}

function splitKey(key: ConfigKey): [string, string] {
  const dot = key.indexOf(".");
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** `--serve PORT` and `--host ADDRESS`, for every command that serves /metrics and /healthz (metrics, stream-clean). */
export const serveFlags = {
  serve: { type: "string", description: "serve /metrics (Prometheus) and /healthz over HTTP on this port (0: any free port)", valueHint: "PORT" },
  host: { type: "string", description: "address --serve listens on", default: "127.0.0.1", valueHint: "ADDRESS" },
} as const satisfies Record<string, ArgDef>;

/** Where --serve listens, or undefined without --serve. */
export function serveAddress(values: { readonly serve?: string | undefined; readonly host?: string | undefined }): ServeAddress | undefined {
  const port = numberFlag(values.serve, "serve", { integer: true, min: 0 });
  if (port === undefined) return undefined;
  if (port > 65_535) throw new UsageError(`--serve expects a port from 0 to 65535, got "${values.serve}"`);
  return { hostname: values.host ?? "127.0.0.1", port };
}
