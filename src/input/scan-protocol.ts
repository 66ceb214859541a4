/**
 * The messages between produce's main thread and its scan worker (scan-worker.ts), and how an
 * input error crosses between them: as its kind and fields, made again on the main thread into the
 * same InputSyntaxError or IoError, with the same message, that reading on the main thread throws
 * (anything else becomes a WorkerError).
 */
import { type ErrorContext, InputSyntaxError, IoError, WorkerError } from "../errors.ts";
import type { PackedItems } from "./packed-items.ts";

/** Batches (one per chunk of the input) the worker may send before the main thread takes one. */
export const SCAN_AHEAD_BATCHES = 2;

export type ScanRequest =
  /** Read this file and send its items. */
  | { readonly type: "scan"; readonly path: string }
  /** One more batch may be sent: the main thread took one. */
  | { readonly type: "more" };

export type ScanReply =
  | ({ readonly type: "items" } & PackedItems)
  | { readonly type: "end" }
  | { readonly type: "failed"; readonly error: ScanFailure };

export type ScanFailure =
  | { readonly kind: "syntax"; readonly message: string; readonly source: string; readonly line: number; readonly column: number }
  | { readonly kind: "io"; readonly message: string; readonly context: ErrorContext }
  | { readonly kind: "other"; readonly message: string };

export function describeScanFailure(error: unknown): ScanFailure {
  if (error instanceof InputSyntaxError) {
    const prefix = `${error.source}:${error.line}:${error.column}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { kind: "syntax", message, source: error.source, line: error.line, column: error.column };
  }
  if (error instanceof IoError) return { kind: "io", message: error.message, context: { ...error.context } };
  return { kind: "other", message: error instanceof Error ? error.message : String(error) };
}

export function reviveScanFailure(failure: ScanFailure): InputSyntaxError | IoError | WorkerError {
  if (failure.kind === "syntax") return new InputSyntaxError(failure.message, failure.source, failure.line, failure.column);
  if (failure.kind === "io") return new IoError(failure.message, { context: failure.context });
  return new WorkerError(`the input scan worker failed: ${failure.message}`);
}
