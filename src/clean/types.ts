/**
 * The shapes that flow out of cleaning: a cleaned row (one Parquet row, one staging message) or a
 * dead letter. Shared by src/clean (which makes them) and src/stream (which writes them).
 */

/** Settings of the cleaning rules, taken from the config's [rules] and [clean] sections. */
export interface CleanRules {
  /** Written for a missing first_name or email (SPEC: "NULL"). */
  readonly nullPlaceholder: string;
  /** Written for an ip_address that is not a dotted-quad IPv4 address. */
  readonly defaultIp: string;
  /** Accepted date patterns, e.g. ["d/M/yyyy", "yyyy-MM-dd"]. */
  readonly dateFormats: readonly string[];
  /** Tumbling window size in milliseconds (default 5 minutes). */
  readonly windowMs: number;
}

/** One cleaned record: the Parquet columns in SPEC order. */
export interface CleanRow {
  id: number;
  first_name: string;
  last_name: string | null;
  email: string;
  gender: string | null;
  ip_addr: string;
  date: string | null;
  country: string | null;
  /** Kafka record timestamp of the input message, ms since the epoch. */
  timestamp: number;
  source_partition: number;
  /** Input offset; a bigint because Kafka offsets are int64. */
  source_offset: bigint;
}

/**
 * Why a message is dead-lettered. SPEC.md names the first three; `invalid_timestamp` is a Kafka
 * record timestamp that is not an integer within the range of a JavaScript Date (a producer may
 * set any int64): such a record could be neither dated in Parquet nor given a staging window.
 */
export const DEAD_LETTER_REASONS = ["invalid_json", "not_an_object", "invalid_id", "invalid_timestamp"] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetterVerdict {
  readonly reason: DeadLetterReason;
  /** Human text for the kstream-error-message header. */
  readonly message: string;
}

/** The outcome of cleaning one message: a row, or why it goes to the dead-letter topic. */
export type CleanOutcome =
  | { readonly kind: "row"; readonly row: CleanRow }
  | { readonly kind: "dead"; readonly verdict: DeadLetterVerdict };
