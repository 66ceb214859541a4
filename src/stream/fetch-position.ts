/**
 * Where a partition's processing stands after a fetched batch, pure. read_committed hides control
 * markers (a transaction's commit or abort record) and the records of aborted transactions: kafkajs
 * drops them from `batch.messages` but still reports the fetch's span — `firstOffset` and
 * `lastOffset` cover every record the fetch decoded, filtered ones included, and a fetch made only
 * of filtered records never reaches eachBatch at all (only its END_BATCH_PROCESS event does).
 *
 * Invariant: inside a span, an offset that is not among the delivered messages is not data (a
 * marker or an aborted record), because kafkajs filters nothing else at or past the fetch offset.
 * So once every delivered message of the span is processed, the position may jump past the
 * span's last offset — but only if nothing before the span is left unprocessed, i.e. the
 * position before the batch had reached the span's first offset. Without the jump, the offset
 * committed after a transactional upstream's final commit marker stays one short of the end
 * offset for good.
 */

/** The offsets a fetch decoded for one partition, filtered records included (kafkajs' batch.firstOffset() / lastOffset()). */
export interface FetchSpan {
  /** null when the fetch decoded nothing at or past the fetch offset. */
  readonly firstOffset: string | null;
  readonly lastOffset: string;
}

/**
 * The next offset to process after a batch: `after` (one past the last delivered message that was
 * processed), moved past the span's trailing filtered records when `before` (the next offset
 * before the batch) left no gap in front of the span. Never moves backwards.
 */
export function positionAfterBatch(before: bigint, after: bigint, span: FetchSpan): bigint {
  if (span.firstOffset === null) return after;
  if (before < BigInt(span.firstOffset)) return after;
  const pastSpan = BigInt(span.lastOffset) + 1n;
  return pastSpan > after ? pastSpan : after;
}
