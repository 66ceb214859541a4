/**
 * `kstream config`: print the effective config (file + environment + flags, secrets redacted) as
 * TOML or --json, or with --schema the JSON Schema of the config file for editors.
 */
import { defineCommand } from "citty";
import { configJsonSchema, formatConfig } from "../config/present.ts";
import { ExitCode } from "../errors.ts";
import { writeStdout } from "../ui/output.ts";
import { commonArgs, jsonArg, startCommand } from "./shared.ts";

export const configCommand = defineCommand({
  meta: { name: "config", description: "Print the effective config (secrets redacted) or its JSON Schema" },
  args: {
    schema: { type: "boolean", description: "print the JSON Schema of the config file instead", default: false },
    ...jsonArg,
    ...commonArgs,
  },
  async run({ args }) {
    if (args.schema) {
      await writeStdout(configJsonSchema());
      return ExitCode.ok;
    }
    const loaded = startCommand(args);
    await writeStdout(formatConfig(loaded, args.json ? "json" : "toml"));
    return ExitCode.ok;
  },
});
