/**
 * Tumbling time windows aligned to the Unix epoch in UTC: start = floor(t / size) * size,
 * end = start + size, interval [start, end).
 */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export function windowOf(timestampMs: number, sizeMs: number): TimeWindow {
  const start = Math.floor(timestampMs / sizeMs) * sizeMs;
  return { start, end: start + sizeMs };
}
