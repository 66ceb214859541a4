/**
 * The staging message of a cleaned row (SPEC.md "Staging topic"): key = window start as ISO-8601
 * UTC, value = {"time_window":{"start","end"},"country","users"} as JSON.
 */
import type { CleanRow } from "./types.ts";
import { windowOf } from "./window.ts";

export interface StagingMessage {
  readonly key: string;
  readonly value: string;
}

// Consecutive records nearly always share a window: keep the last one's ISO strings.
let cachedStart = Number.NaN;
let cachedSize = Number.NaN;
let cachedKey = "";
let cachedWindowJson = "";

export function stagingMessage(row: CleanRow, windowMs: number): StagingMessage {
  const { start, end } = windowOf(row.timestamp, windowMs);
  if (start !== cachedStart || windowMs !== cachedSize) {
    cachedStart = start;
    cachedSize = windowMs;
    cachedKey = new Date(start).toISOString();
    cachedWindowJson = `{"start":"${cachedKey}","end":"${new Date(end).toISOString()}"}`;
  }
  return {
    key: cachedKey,
    value: `{"time_window":${cachedWindowJson},"country":${JSON.stringify(row.country)},"users":${JSON.stringify(row.email)}}`,
  };
}
