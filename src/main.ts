#!/usr/bin/env bun
/**
 * kstream's entry point: dispatches to one subcommand, loading only that command's module (so
 * `--help` stays fast), and is the one place that turns errors into a line and an exit code.
 */
import { type CommandDef, runCommand, showUsage } from "citty";
import packageJson from "../package.json" with { type: "json" };
import { describeError, exitCodeOf, ExitCode, failureJson, UsageError } from "./errors.ts";
import { isVerbose, log } from "./ui/log.ts";
import { writeStdout } from "./ui/output.ts";
import { installSignalHandlers } from "./ui/shutdown.ts";

type Loader = () => Promise<CommandDef<any>>;

// Set by scripts/build.sh (bun build --define); absent when run from source with `bun src/main.ts`.
declare const KSTREAM_VERSION: string | undefined;
declare const KSTREAM_COMMIT: string | undefined;
declare const KSTREAM_BUILT: string | undefined;

/** What `kstream --version` prints: enough to tell which build a cron job or a bug report ran. */
function versionText(): string {
  const version = typeof KSTREAM_VERSION === "string" ? KSTREAM_VERSION : packageJson.version;
  const commit = typeof KSTREAM_COMMIT === "string" ? KSTREAM_COMMIT : "unknown";
  const built = typeof KSTREAM_BUILT === "string" ? KSTREAM_BUILT : "not built (run from source)";
  return `kstream ${version}\ncommit ${commit}\nbuilt ${built}\nbun ${Bun.version} (${process.platform}-${process.arch})\n`;
}

const subCommands: Record<string, Loader> = {
  produce: () => import("./commands/produce.ts").then((m) => m.produceCommand),
  "stream-clean": () => import("./commands/stream-clean.ts").then((m) => m.streamCleanCommand),
  "batch-measure": () => import("./commands/batch-measure.ts").then((m) => m.batchMeasureCommand),
  recon: () => import("./commands/recon.ts").then((m) => m.reconCommand),
  metrics: () => import("./commands/metrics.ts").then((m) => m.metricsCommand),
  check: () => import("./commands/check.ts").then((m) => m.checkCommand),
  compact: () => import("./commands/compact.ts").then((m) => m.compactCommand),
  config: () => import("./commands/config.ts").then((m) => m.configCommand),
};

const root: CommandDef = {
  meta: { name: "kstream", version: packageJson.version, description: "Kafka cleaning pipeline: one binary, real Kafka, no data lost" },
  subCommands,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    process.stdout.write(versionText());
    return ExitCode.ok;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    await showUsage(root);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const load = subCommands[name];
  if (!load) throw new UsageError(`unknown command "${name}"; run kstream --help for the list`);
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    await showUsage(command, root);
    return ExitCode.ok;
  }
  try {
    const { result } = await runCommand(command, { rawArgs: rest });
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (error) {
    // citty's own parse errors (bad enum value, missing argument) are usage errors: exit 2.
    if (error instanceof Error && error.name === "CLIError") throw new UsageError(`${error.message}; run kstream ${name} --help`);
    throw error;
  }
}

function wantsJson(args: readonly string[]): boolean {
  return args.includes("--json") || args.includes("--json=true");
}

installSignalHandlers((code) => process.exit(code));
const commandName = process.argv[2];
let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  exitCode = exitCodeOf(error);
  log.error(`kstream${commandName && !commandName.startsWith("-") ? ` ${commandName}` : ""}: ${describeError(error)}`);
  if (isVerbose() && error instanceof Error && error.stack) log.error(error.stack);
  // With --json a machine reads stdout: the failure is a document there too, with its stable code.
  if (wantsJson(process.argv.slice(3))) await writeStdout(`${JSON.stringify(failureJson(error, commandName?.startsWith("-") ? undefined : commandName))}\n`);
}
// Exiting here, once, also ends what a failed client may have left behind (timers, sockets):
// cron must never see a kstream that hangs after its work is done.
process.exit(exitCode);
