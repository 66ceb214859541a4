/**
 * The Prometheus text exposition format (version 0.0.4), shared by every job that exposes
 * metrics: one family per metric with `# HELP` and `# TYPE` before its samples, every family's
 * samples together, label values escaped. A sample whose value is unknown (null) is left out
 * rather than written as NaN. Pure: no I/O.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "histogram";

export type Labels = Readonly<Record<string, string | number>>;

/**
 * One sample: its labels, its value (a boolean is 1 or 0; null is left out), and the suffix its
 * name takes after the family's name (a histogram's `_bucket`, `_sum` and `_count`).
 */
export type Sample = readonly [labels: Labels, value: number | null | boolean, suffix?: string];

export interface Family {
  readonly name: string;
  readonly help: string;
  /** Default gauge. */
  readonly type?: MetricType;
  readonly samples: readonly Sample[];
}

/** Families in the order given, each as its HELP and TYPE lines and its samples. */
export function formatFamilies(families: readonly Family[]): string {
  return families.map(formatFamily).join("");
}

export function formatFamily(family: Family): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type ?? "gauge"}`];
  for (const [labels, value, suffix = ""] of family.samples) {
    if (value === null) continue;
    lines.push(`${family.name}${suffix}${formatLabels(labels)} ${formatValue(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`).join(",")}}`;
}

export function formatValue(value: number | boolean): string {
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return String(value);
}

/** Label values escape backslash, double quote and line feed; HELP text only backslash and line feed. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
