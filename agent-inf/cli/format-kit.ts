/**
 * The small pieces every CLI view is made of (format.ts and the views beside it): aligned tables,
 * numbers without float noise, and defensive reads of the API's JSON, field by field.
 */

export type Obj = Readonly<Record<string, unknown>>;

/** Columns separated by two spaces; `right` holds the indexes of right-aligned columns. */
export function table(
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  return rows
    .map((row) =>
      row
        .map((cell, index) => {
          const width = widths[index] ?? 0;
          return right.has(index) ? cell.padStart(width) : cell.padEnd(width);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Milliseconds with microsecond precision. */
export function ms(value: number | undefined): string {
  return value === undefined ? "?" : `${value.toFixed(3)} ms`;
}

/** 12 significant digits, like the agent's own denial lines: hides float noise (0.30000000000000004). */
export function plain(value: number): string {
  return Number.isInteger(value) || !Number.isFinite(value)
    ? String(value)
    : String(Number(value.toPrecision(12)));
}

export function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(3)}`;
}

export function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? "?" : value.toFixed(digits);
}

export function stop(value: unknown): string {
  return typeof value === "number" ? String(value) : "-";
}

export function jsonLine(body: unknown): string {
  return `${JSON.stringify(body)}\n`;
}

export function asObject(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Obj)
    : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
