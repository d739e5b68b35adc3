/** CSV (RFC 4180) from rows of plain values, safe to open in a spreadsheet. */

export type Cell = string | number | boolean | null | undefined;

/**
 * One cell: quoted when it holds a comma, quote or line break; a text cell starting with = + - @ or a tab gets a
 * leading apostrophe so a spreadsheet shows it instead of running it as a formula (OWASP "CSV injection").
 * Numbers are written as they are (full precision; -0.5 stays a number).
 */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and one line per row (CRLF line ends, as RFC 4180 says). */
export function toCsv<T>(columns: readonly { name: string; value: (row: T) => Cell }[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvCell(c.name)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
