/**
 * What `kstream config` shows: the effective config (file + environment + flags) as TOML or JSON
 * with every secret redacted, and the JSON Schema of the config file for editors.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import { stringify as stringifyToml } from "smol-toml";
import type { LoadedConfig } from "./load.ts";
import { ConfigSchema } from "./schema.ts";

const REDACTED = "<redacted>";

/** The effective config as a plain object, secrets replaced by a marker saying they are set. */
export function redactedConfig(loaded: LoadedConfig): Record<string, unknown> {
  const copy = structuredClone(loaded.config) as Record<string, Record<string, unknown>>;
  const kafka = copy.kafka as Record<string, Record<string, unknown> | undefined>;
  if (kafka.sasl && loaded.secrets.saslPassword !== undefined) kafka.sasl.password = REDACTED;
  if (kafka.tls && loaded.secrets.tlsKeyPassword !== undefined) kafka.tls.key_password = REDACTED;
  if (loaded.secrets.s3SecretAccessKey !== undefined) (copy.s3 ??= {}).secret_access_key = REDACTED;
  return copy;
}

export function formatConfig(loaded: LoadedConfig, format: "toml" | "json"): string {
  const config = redactedConfig(loaded);
  if (format === "json") return `${JSON.stringify({ file: loaded.file ?? null, overrides: loaded.origins, config }, null, 2)}\n`;
  const header = [
    `# effective kstream config — file: ${loaded.file ?? "(none: built-in defaults)"}`,
    ...Object.entries(loaded.origins).map(([key, origin]) => `# ${key} set by ${origin}`),
  ];
  return `${header.join("\n")}\n\n${stringifyToml(config)}\n`;
}

export function configJsonSchema(): string {
  const schema = toJsonSchema(ConfigSchema, { errorMode: "ignore" });
  return `${JSON.stringify({ ...schema, title: "kstream config (config/kstream.toml)" }, null, 2)}\n`;
}
