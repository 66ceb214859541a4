/**
 * Progress for long work: a redrawn status line on a TTY (records, MB/s, ETA when the total is
 * known), plain periodic log lines otherwise (cron, CI, pipes), so logs stay readable in files.
 */
import { log } from "./log.ts";

export interface ProgressSnapshot {
  readonly records: number;
  readonly bytes?: number;
  /** Extra figures appended to the line, e.g. { rejected: 3, lag: 120 }. */
  readonly extra?: Readonly<Record<string, number | string>>;
}

export interface Progress {
  update(snapshot: ProgressSnapshot): void;
  /** Clears the TTY line; the caller prints its own summary after. */
  done(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly totalBytes?: number | undefined;
  /** Seconds between plain lines when stderr is not a TTY. */
  readonly plainEverySeconds?: number;
  readonly tty?: boolean;
  readonly write?: (text: string) => void;
  readonly now?: () => number;
}

export function createProgress(options: ProgressOptions): Progress {
  const tty = options.tty ?? (process.stderr.isTTY === true && !process.env.CI);
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const startedAt = now();
  const redrawEveryMs = tty ? 100 : (options.plainEverySeconds ?? 10) * 1000;
  let lastDrawAt = startedAt;
  let drawn = false;

  return {
    update(snapshot) {
      const at = now();
      if (at - lastDrawAt < redrawEveryMs) return;
      lastDrawAt = at;
      const line = formatProgressLine(options.label, snapshot, (at - startedAt) / 1000, options.totalBytes);
      if (tty) {
        write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        log.info(line);
      }
    },
    done() {
      if (tty && drawn) write("\r\x1b[2K");
    },
  };
}

export function formatProgressLine(
  label: string,
  snapshot: ProgressSnapshot,
  elapsedSeconds: number,
  totalBytes: number | undefined,
): string {
  const seconds = Math.max(elapsedSeconds, 1e-3);
  const parts = [`${label}: ${formatCount(snapshot.records)} records`, `${formatCount(Math.round(snapshot.records / seconds))}/s`];
  if (snapshot.bytes !== undefined) {
    parts.push(`${(snapshot.bytes / 1e6 / seconds).toFixed(1)} MB/s`);
    if (totalBytes && totalBytes > 0) {
      const fraction = Math.min(snapshot.bytes / totalBytes, 1);
      const eta = fraction > 0 ? seconds * (1 / fraction - 1) : undefined;
      parts.push(`${bar(fraction)} ${(fraction * 100).toFixed(0)}%`);
      if (eta !== undefined) parts.push(`ETA ${formatSeconds(eta)}`);
    }
  }
  for (const [key, value] of Object.entries(snapshot.extra ?? {})) {
    parts.push(`${key} ${typeof value === "number" ? formatCount(value) : value}`);
  }
  return parts.join(" · ");
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/**
 * An integer with thousands commas, as toLocaleString("en-US") writes it. Written by hand: the
 * first toLocaleString of a process loads ICU's locale data, about 0.2 s of CPU per run.
 */
export function formatCount(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString("en-US");
  const digits = String(Math.abs(value));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let index = grouped.length; index < digits.length; index += 3) grouped += `,${digits.slice(index, index + 3)}`;
  return value < 0 ? `-${grouped}` : grouped;
}

/**
 * A number with one decimal and thousands commas, as toLocaleString("en-US") with one fraction
 * digit writes it, without loading ICU: ICU rounds the shortest decimal that reads back as the
 * number (0.15 gives 0.2), half away from zero, so this rounds String(value)'s digits.
 */
export function formatTenths(value: number): string {
  const text = String(value);
  if (!Number.isFinite(value) || Math.abs(value) >= 1e14 || text.includes("e")) {
    return value.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  }
  const negative = text.startsWith("-") || Object.is(value, -0);
  const digits = text.startsWith("-") ? text.slice(1) : text;
  const point = digits.indexOf(".");
  const fraction = point < 0 ? "" : digits.slice(point + 1);
  let tenths = Number(point < 0 ? digits : digits.slice(0, point)) * 10 + Number(fraction[0] ?? "0");
  if (fraction.length > 1 && fraction[1]! >= "5") tenths += 1;
  return `${negative ? "-" : ""}${formatCount(Math.floor(tenths / 10))}.${tenths % 10}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}
