/**
 * The measures CSV (SPEC.md "Measures"): header, one row per window sorted by start, RFC 4180
 * with LF line endings and a final newline, a field quoted only when it holds a comma, a quote or
 * a line break. Also reads such a file back, for --since-last's merge.
 */
import type { WindowMeasure } from "./aggregate.ts";

export const CSV_HEADER = [
  "window_start",
  "window_end",
  "most_represented_country",
  "most_represented_country_count",
  "least_represented_country",
  "least_represented_country_count",
  "unique_users",
] as const;

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function measureRow(measure: WindowMeasure): string[] {
  return [
    new Date(measure.windowStart).toISOString(),
    new Date(measure.windowEnd).toISOString(),
    measure.mostCountry ?? "",
    measure.mostCount === null ? "" : String(measure.mostCount),
    measure.leastCountry ?? "",
    measure.leastCount === null ? "" : String(measure.leastCount),
    String(measure.uniqueUsers),
  ];
}

export function formatCsv(measures: readonly WindowMeasure[]): string {
  const lines = [CSV_HEADER.join(","), ...measures.map((measure) => measureRow(measure).map(csvField).join(","))];
  return `${lines.join("\n")}\n`;
}

/** Parses RFC 4180 text into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The measures of a CSV written by formatCsv; undefined when the file is not one. */
export function measuresFromCsv(text: string): WindowMeasure[] | undefined {
  const [header, ...rows] = parseCsv(text);
  if (!header || header.join(",") !== CSV_HEADER.join(",")) return undefined;
  const measures: WindowMeasure[] = [];
  for (const fields of rows) {
    if (fields.length !== CSV_HEADER.length) return undefined;
    const [start, end, most, mostCount, least, leastCount, users] = fields as [string, string, string, string, string, string, string];
    measures.push({
      windowStart: Date.parse(start),
      windowEnd: Date.parse(end),
      mostCountry: mostCount === "" ? null : most,
      mostCount: mostCount === "" ? null : Number(mostCount),
      leastCountry: leastCount === "" ? null : least,
      leastCount: leastCount === "" ? null : Number(leastCount),
      uniqueUsers: Number(users),
    });
  }
  return measures;
}
