/**
 * The one error hierarchy of kstream. Domain code throws these; only src/main.ts turns them into
 * a single line on stderr and an exit code. Each error carries the context a user needs to find
 * the problem (config key path, file:line:col, topic/partition/offset), a stable `code` that
 * scripts and tests match on (the wording may change, the code does not), and says whether
 * retrying the same work could succeed.
 */
// Types only: the hierarchy stays free of any library at run time.
import type { RecordMetadata } from "kafkajs";

/** Exit codes shared by every subcommand (see SPEC.md "Exit status"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  behind: 1,
  usage: 2,
  mismatch: 3,
  /** Another run of the same job holds the state this run would change (README "Overlapping runs"). */
  busy: 4,
} as const;

/**
 * Every code a kstream error carries, one per class (README "Exit codes" lists them). Stable: a
 * code is never renamed or reused; a new kind of failure gets a new class and a new code.
 */
export const ErrorCode = {
  /** A failure with no more specific class. */
  generic: "KSTREAM_ERROR",
  usage: "KSTREAM_USAGE",
  config: "KSTREAM_CONFIG",
  inputSyntax: "KSTREAM_INPUT_SYNTAX",
  io: "KSTREAM_IO",
  ledger: "KSTREAM_LEDGER",
  kafka: "KSTREAM_KAFKA",
  sendIncomplete: "KSTREAM_KAFKA_SEND_INCOMPLETE",
  recovery: "KSTREAM_RECOVERY",
  storage: "KSTREAM_STORAGE",
  dependency: "KSTREAM_DEPENDENCY",
  busy: "KSTREAM_BUSY",
  staleState: "KSTREAM_STALE_STATE",
  worker: "KSTREAM_WORKER",
  /** Not a kstream error at all (a bug, or a library's error nobody wrapped): only in --json output. */
  internal: "KSTREAM_INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorContext = Record<string, string | number | bigint | boolean | undefined>;

export class KstreamError extends Error {
  override readonly name: string = "KstreamError";
  readonly code: ErrorCode = ErrorCode.generic;
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
  override readonly code = ErrorCode.usage;
  override readonly exitCode = ExitCode.usage;
}

/** The config file or an override is wrong: names the key path and the file. Exit 2. */
export class ConfigError extends KstreamError {
  override readonly name = "ConfigError";
  override readonly code = ErrorCode.config;
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
  override readonly code = ErrorCode.inputSyntax;
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
  override readonly code = ErrorCode.io;
}

/** The ledger database failed (locked, unwritable, corrupt). Exit 1. */
export class LedgerError extends KstreamError {
  override readonly name = "LedgerError";
  override readonly code = ErrorCode.ledger;
}

/** Kafka refused or could not be reached; `retriable` mirrors kafkajs' own judgement. Exit 1. */
export class KafkaError extends KstreamError {
  override readonly name = "KafkaError";
  override readonly code = ErrorCode.kafka;
  override readonly retriable: boolean;
  constructor(message: string, options: { context?: ErrorContext; cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.retriable = options.retriable ?? false;
  }
}

/**
 * A send that failed after some of its partitions were acknowledged (possibly none): carries those
 * acknowledgements so the caller can count what did land. As retriable as what failed.
 */
export class SendIncompleteError extends KstreamError {
  override readonly name = "SendIncompleteError";
  override readonly code = ErrorCode.sendIncomplete;
  override readonly retriable: boolean;
  constructor(
    override readonly cause: unknown,
    /** Acknowledgements received before the failure. */
    readonly answered: RecordMetadata[],
  ) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.retriable = isRetriableCause(cause);
  }
}

/** The Parquet folder holds what kstream's protocol cannot produce (a file straddling the committed offset). Exit 1. */
export class RecoveryError extends KstreamError {
  override readonly name = "RecoveryError";
  override readonly code = ErrorCode.recovery;
}

/** An object store (or folder) refused a request or could not be reached. Exit 1. */
export class StorageError extends KstreamError {
  override readonly name = "StorageError";
  override readonly code = ErrorCode.storage;
  override readonly retriable: boolean;
  /** The store's own error code when it gave one ("SignatureDoesNotMatch", "NoSuchBucket"…). */
  readonly storeCode: string | undefined;

  constructor(
    message: string,
    options: { retriable?: boolean; storeCode?: string; context?: ErrorContext; cause?: unknown } = {},
  ) {
    super(message, { context: { ...options.context, storeCode: options.storeCode }, cause: options.cause });
    this.retriable = options.retriable ?? false;
    this.storeCode = options.storeCode;
  }
}

/** A dependency kstream patches is not the version the patches were written for. Exit 1. */
export class DependencyError extends KstreamError {
  override readonly name = "DependencyError";
  override readonly code = ErrorCode.dependency;
}

/**
 * Another run of the same job (cron starting it again, a second person) held its lease for longer
 * than ledger.job_wait: this run changed nothing and can simply be run again later. Exit 4.
 */
export class JobBusyError extends KstreamError {
  override readonly name = "JobBusyError";
  override readonly code = ErrorCode.busy;
  override readonly exitCode = ExitCode.busy;
  override readonly retriable = true;
}

/**
 * The state this run read at its start was changed by another run meanwhile (its lease was taken
 * over, or a kstream without leases ran): this run's update would count something twice, so it
 * was not applied. What was applied before is consistent; run again (the same update never
 * succeeds, hence not retriable). Exit 4.
 */
export class StaleStateError extends KstreamError {
  override readonly name = "StaleStateError";
  override readonly code = ErrorCode.staleState;
  override readonly exitCode = ExitCode.busy;
}

/**
 * A clean worker (stream-clean's second thread) failed or exited: the cycles it served cannot go
 * on, and the run ends (their open transactions are aborted, as in any failed run). Exit 1.
 */
export class WorkerError extends KstreamError {
  override readonly name = "WorkerError";
  override readonly code = ErrorCode.worker;
}

/**
 * kafkajs marks retriable errors; once its own retries are spent it wraps the cause in
 * KafkaJSNumberOfRetriesExceeded. Pure: reads only the fields kafkajs sets.
 */
export function isRetriableCause(error: unknown): boolean {
  let cause = error as { retriable?: boolean; name?: string; cause?: unknown } | undefined;
  if (cause?.name === "KafkaJSNumberOfRetriesExceeded") return true;
  while (cause?.cause !== undefined) cause = cause.cause as typeof cause;
  return cause?.retriable === true;
}

/** The errno code (ENOENT, EACCES, ...) of a failed system call, or undefined for any other error. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && code.startsWith("E") ? code : undefined;
}

/** The errno code when there is one, else the error's message: the short reason in "cannot read X: …". */
export function errnoOrMessage(error: unknown): string {
  return errnoOf(error) ?? (error instanceof Error ? error.message : String(error));
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

export function codeOf(error: unknown): ErrorCode {
  return error instanceof KstreamError ? error.code : ErrorCode.internal;
}

/** The `--json` failure document: what a machine needs to branch on, without parsing the line. */
export function failureJson(error: unknown, command: string | undefined): { error: { code: ErrorCode; message: string; exit_code: number; command: string | null } } {
  return { error: { code: codeOf(error), message: describeError(error), exit_code: exitCodeOf(error), command: command ?? null } };
}
