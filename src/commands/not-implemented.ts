/**
 * Subcommands whose job a later release builds: they exist (with --help and --config) so scripts
 * can be written against the final command line, and say plainly that they do nothing yet.
 */
import { defineCommand } from "citty";
import { NotImplementedError } from "../errors.ts";
import { commonArgs } from "./shared.ts";

export function notImplementedCommand(name: string, description: string) {
  return defineCommand({
    meta: { name, description: `${description} (not implemented yet)` },
    args: { ...commonArgs },
    run() {
      throw new NotImplementedError(`${name} is not implemented yet`);
    },
  });
}
