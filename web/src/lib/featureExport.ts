/** The shapes of exported features: one feature as JSON, a list as CSV or JSON (from the page's own data). */
import { toCsv, type Cell } from "./csv";

export const FEATURE_FORMAT = "saelab-feature/1";
export const LIST_FORMAT = "saelab-feature-list/1";

export interface ListRow {
  index: number;
  label?: string | null;
  labelSource?: string | null;
  grade?: string | null;
  labelScore?: number | null;
  density: number;
  log10Density?: number | null;
  nActive?: number | null;
  dead?: boolean | null;
  dense?: boolean | null;
  meanActivation?: number | null;
  maxActivation: number;
}

const COLUMNS: { name: keyof ListRow; value: (r: ListRow) => Cell }[] = (
  ["index", "label", "labelSource", "grade", "labelScore", "density", "log10Density", "nActive", "dead", "dense", "meanActivation", "maxActivation"] as const
).map((name) => ({ name, value: (r: ListRow) => r[name] }));

/** CSV with one row per feature; column names are the GraphQL field names (densities are fractions). */
export function listCsv(rows: readonly ListRow[]): string {
  return toCsv(COLUMNS, rows);
}

export interface ListContext {
  runId: string;
  url: string;
  /** The query's sort, order and filter, so the file says what it is a list of. */
  query: Record<string, unknown>;
}

export function listJson(rows: readonly ListRow[], ctx: ListContext, now = new Date()): string {
  return `${JSON.stringify({ format: LIST_FORMAT, runId: ctx.runId, exportedAt: now.toISOString(), url: ctx.url, query: ctx.query, count: rows.length, features: rows }, null, 2)}\n`;
}

export function featureJson(feature: { runId: string; index: number }, url: string, now = new Date()): string {
  return `${JSON.stringify({ format: FEATURE_FORMAT, runId: feature.runId, index: feature.index, exportedAt: now.toISOString(), url, feature }, null, 2)}\n`;
}
