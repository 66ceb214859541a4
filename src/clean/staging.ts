/**
 * The staging message of a cleaned row (SPEC.md "Staging topic"): key = the window start as
 * ISO-8601 UTC, value = {"time_window":{"start":…,"end":…},"country":…,"users":…} as JSON, where
 * country is the cleaned country (or null) and users the cleaned email.
 */
import type { CleanRow } from "./types.ts";
import { isRepresentableWindow, windowOf } from "./window.ts";

export interface StagingMessage {
  readonly key: string;
  readonly value: string;
}

// Consecutive records nearly always share a window: keep the last window's strings.
let cachedSize = Number.NaN;
let cachedStart = Number.NaN;
let cachedEnd = Number.NaN;
let cachedKey = "";
let cachedPrefix = "";

export function stagingMessage(row: CleanRow, windowMs: number): StagingMessage {
  const timestamp = row.timestamp;
  if (!(timestamp >= cachedStart && timestamp < cachedEnd && windowMs === cachedSize)) {
    const window = windowOf(timestamp, windowMs);
    cachedSize = windowMs;
    cachedStart = window.start;
    cachedEnd = window.end;
    if (isRepresentableWindow(window)) {
      cachedKey = new Date(window.start).toISOString();
      cachedPrefix = `{"time_window":{"start":"${cachedKey}","end":"${new Date(window.end).toISOString()}"},"country":`;
    } else {
      // Unreachable through cleanMessage, which dead-letters such timestamps; kept so that this never throws.
      cachedKey = "";
      cachedPrefix = `{"time_window":{"start":null,"end":null},"country":`;
    }
  }
  return { key: cachedKey, value: `${cachedPrefix}${JSON.stringify(row.country)},"users":${JSON.stringify(row.email)}}` };
}
