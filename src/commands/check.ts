/**
 * `kstream check`: a preflight for CI and first runs. Connects with the effective config and prints
 * one line per check with its verdict (or `--json`); exit 0 when nothing would trip a run, 1 when
 * something would, 2 when the config itself does not load.
 */
import { defineCommand } from "citty";
import { runChecks } from "../check/run.ts";
import { exitCodeFor, formatLines, toCheckJson } from "../check/verdicts.ts";
import { toJson, writeStdout } from "../ui/output.ts";
import { commonArgs, jsonArg, numberFlag, startCommand } from "./shared.ts";

export const checkCommand = defineCommand({
  meta: { name: "check", description: "Preflight: brokers, topics, rights (produce, transactions, group), output folders, ledger and rules; exit 1 when a run would fail" },
  args: {
    ...jsonArg,
    timeout: { type: "string", description: "the longest each check may wait for the brokers, in SECONDS", default: "10", valueHint: "SECONDS" },
    ...commonArgs,
  },
  async run({ args }) {
    const { config, secrets, file } = startCommand(args);
    const timeoutMs = numberFlag(args.timeout, "timeout", { min: 0.1 })! * 1000;
    const results = await runChecks({ config, secrets, timeoutMs });
    await writeStdout(args.json ? toJson(toCheckJson(results, file)) : formatLines(results));
    return exitCodeFor(results);
  },
});
