/**
 * Aligned text columns for people reading a terminal: numbers right-aligned, text left-aligned,
 * widths measured without colour codes so coloured cells line up too.
 */
const ANSI = /\x1b\[[0-9;]*m/g;

export const visibleLength = (text: string): number => text.replace(ANSI, "").length;

export interface TableOptions {
  /** One flag per column: true to right-align (numbers). */
  readonly alignRight?: readonly boolean[];
  /** Prefix of every line (nesting under a heading). */
  readonly indent?: string;
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => visibleLength(row[column] ?? ""))));
  const indent = options.indent ?? "";
  return all
    .map((row) =>
      indent +
      row
        .map((cell, column) => {
          const padding = " ".repeat(widths[column]! - visibleLength(cell));
          return options.alignRight?.[column] ? padding + cell : cell + padding;
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
