/**
 * The shapes of `kstream check`: one result per check (a verdict, the line a person reads, what to
 * change) and the stable `--json` document. Internal names are camelCase; the wire format is the
 * snake_case below and changes only by adding fields.
 */

/**
 * ok: nothing to do. warn: a run works, but something differs from the config (or could not be
 * checked). fail: a run would trip on it (exit 1). skip: not asked, because a check it needs failed.
 */
export type Verdict = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Stable identifier: brokers, topic.input, topic.staging, topic.dead_letter, produce, consume, transaction, group, parquet, ledger, measures, rules. */
  readonly name: string;
  readonly verdict: Verdict;
  /** What was checked, in a few words and with its subject (a topic, a path). */
  readonly message: string;
  /** What to change, when the verdict is warn or fail and there is something to change. */
  readonly fix?: string;
}

/** `kstream check --json`. */
export interface CheckJson {
  readonly ok: boolean;
  readonly config: string | null;
  readonly checks: readonly { name: string; verdict: Verdict; message: string; fix: string | null }[];
}
