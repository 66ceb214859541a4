/**
 * The error of the storage floor: an object store (or folder) refused or could not be reached. It
 * extends the one hierarchy of src/errors.ts and lives here, beside the code that throws it, until
 * the hierarchy's stable codes settle; src/main.ts prints it as one line like every KstreamError.
 */
import { type ErrorContext, KstreamError } from "../errors.ts";

/** An object store refused a request or could not be reached. Exit 1. */
export class StorageError extends KstreamError {
  override readonly name = "StorageError";
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
