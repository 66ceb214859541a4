/**
 * Durations in the config ("30s", "5 minutes", "1h 30m") in milliseconds. The parser lives with
 * the window arithmetic in src/clean (one grammar for every duration kstream reads); this module
 * adds the form the jobs use once the schema has validated a value.
 */
import { parseDuration } from "../clean/window.ts";

export { parseDuration };

/** Like parseDuration for values the schema already validated. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: ${text}`);
  return ms;
}
