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
  return { key: cachedKey, value: `${cachedPrefix}${jsonString(row.country)},"users":${jsonString(row.email)}}` };
}

/**
 * JSON.stringify of a string or null, the same text: a string with nothing to escape (no quote,
 * backslash, control character or lone surrogate: JSON.stringify escapes exactly those) is
 * quoted as it is, without the call; anything else goes to JSON.stringify.
 */
export function jsonString(text: string | null): string {
  if (text === null) return "null";
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}
