/**
 * Offset arithmetic for the ledger's ranges: which part of an acknowledged span no recorded range
 * holds yet. An acknowledgement can arrive after recon already found the same request on the topic
 * (or after a journal fold recorded it), so the ledger adds only the uncovered part and never counts
 * an offset twice.
 */

export interface Span {
  first: number;
  last: number;
}

/** The parts of [first, last] outside every span in `recorded` (any order, may overlap), in order. */
export function uncoveredParts(first: number, last: number, recorded: readonly Span[]): Span[] {
  const parts: Span[] = [];
  let next = first;
  for (const span of [...recorded].sort((a, b) => a.first - b.first)) {
    if (span.last < next) continue;
    if (span.first > last) break;
    if (span.first > next) parts.push({ first: next, last: span.first - 1 });
    next = span.last + 1;
    if (next > last) return parts;
  }
  if (next <= last) parts.push({ first: next, last });
  return parts;
}
