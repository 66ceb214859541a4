/**
 * The one error hierarchy of kstream. Domain code throws these; only src/main.ts turns them into
 * a single line on stderr and an exit code. Each error carries the context a user needs to find
 * the problem (config key path, file:line:col, topic/partition/offset) and says whether retrying
 * the same work could succeed.
 */

/** Exit codes shared by every subcommand (see SPEC.md "Exit status"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  behind: 1,
  usage: 2,
  mismatch: 3,
} as const;

export type ErrorContext = Record<string, string | number | bigint | boolean | undefined>;

export class KstreamError extends Error {
  override readonly name: string = "KstreamError";
  readonly exitCode: number = ExitCode.failure;
  readonly retriable: boolean = false;
  readonly context: ErrorContext;

  constructor(message: string, options: { context?: ErrorContext; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.context = options.context ?? {};
  }
}

/** Bad command line: unknown flag value, conflicting options. Exit 2. */
export class UsageError extends KstreamError {
  override readonly name = "UsageError";
  override readonly exitCode = ExitCode.usage;
}

/** The config file or an override is wrong: names the key path and the file. Exit 2. */
export class ConfigError extends KstreamError {
  override readonly name = "ConfigError";
  override readonly exitCode = ExitCode.usage;
  constructor(
    message: string,
    readonly keyPath: string | undefined,
    readonly file: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(
      [keyPath && `${keyPath}: `, message, file && ` (in ${file})`].filter(Boolean).join(""),
      { context: { keyPath, file }, cause: options.cause },
    );
  }
}

/** Input that cannot be read as JSON where it must be: names file:line:col. Exit 1. */
export class InputSyntaxError extends KstreamError {
  override readonly name = "InputSyntaxError";
  constructor(
    message: string,
    readonly source: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${source}:${line}:${column}: ${message}`, { context: { source, line, column } });
  }
}

/** A file or stream could not be read or written. Exit 1. */
export class IoError extends KstreamError {
  override readonly name = "IoError";
}

/** The ledger database failed (locked, unwritable, corrupt). Exit 1. */
export class LedgerError extends KstreamError {
  override readonly name = "LedgerError";
}

/** Kafka refused or could not be reached; `retriable` mirrors kafkajs' own judgement. Exit 1. */
export class KafkaError extends KstreamError {
  override readonly name = "KafkaError";
  override readonly retriable: boolean;
  constructor(message: string, options: { context?: ErrorContext; cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.retriable = options.retriable ?? false;
  }
}

/** Renders any thrown value as the one line a user sees (a KstreamError's message already holds its detail). */
export function describeError(error: unknown): string {
  if (error instanceof KstreamError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export function exitCodeOf(error: unknown): number {
  return error instanceof KstreamError ? error.exitCode : ExitCode.failure;
}
