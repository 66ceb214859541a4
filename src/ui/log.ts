/**
 * The one logger of kstream: consola writing everything to stderr, because stdout carries data
 * (--json, --prometheus, CSV to "-"). Verbosity comes from --verbose / --quiet via setVerbosity.
 */
import { createConsola, LogLevels } from "consola";

export const log = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  // Badges and blank lines only for a person at a terminal; cron mail and CI logs get one plain line.
  fancy: process.stderr.isTTY === true && !process.env.CI,
  level: LogLevels.info,
  formatOptions: { date: false, compact: true },
});

export function setVerbosity(options: { verbose?: boolean; quiet?: boolean }): void {
  if (options.verbose) log.level = LogLevels.debug;
  else if (options.quiet) log.level = LogLevels.warn;
}

export const isVerbose = (): boolean => log.level >= LogLevels.debug;
