/** The explorer's URL state (page, sort, order, filters) parsed from and written to the query string. */
import type { FeatureFilter, FeatureSort, SortOrder } from "../gql/graphql";

export const SORTS: Record<string, FeatureSort> = {
  index: "INDEX",
  density: "DENSITY",
  maxActivation: "MAX_ACTIVATION",
  labelScore: "LABEL_SCORE",
};
export type SortParam = keyof typeof SORTS;

export interface ExplorerState {
  page: number;
  sort: SortParam;
  order: "asc" | "desc";
  grades: string[];
  /** log10 density bounds (e.g. -4 = 0.01% of tokens). */
  minLog10: number | null;
  maxLog10: number | null;
  label: string;
}

function num(raw: string | null): number | null {
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

export function parseExplorerParams(p: URLSearchParams): ExplorerState {
  const sort = p.get("sort") ?? "index";
  const page = Number.parseInt(p.get("page") ?? "1", 10);
  return {
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    sort: (sort in SORTS ? sort : "index") as SortParam,
    order: p.get("order") === "desc" ? "desc" : "asc",
    grades: (p.get("grade") ?? "").split(",").map((g) => g.trim()).filter(Boolean),
    minLog10: num(p.get("dmin")),
    maxLog10: num(p.get("dmax")),
    label: p.get("label") ?? "",
  };
}

export function sortVariables(s: ExplorerState): { sort: FeatureSort; order: SortOrder } {
  return { sort: SORTS[s.sort], order: s.order === "desc" ? "DESC" : "ASC" };
}

/** The GraphQL filter for the state, or null when nothing is filtered. */
export function featureFilter(s: ExplorerState): FeatureFilter | null {
  const f: FeatureFilter = {};
  if (s.grades.length) f.grades = s.grades;
  if (s.minLog10 !== null) f.minDensity = 10 ** s.minLog10;
  if (s.maxLog10 !== null) f.maxDensity = 10 ** s.maxLog10;
  if (s.label.trim()) f.labelContains = s.label.trim();
  return Object.keys(f).length ? f : null;
}

/** Clicking a column: a new column sorts descending for measures and ascending for the index; the same flips. */
export function nextSort(current: ExplorerState, column: SortParam): { sort: SortParam; order: "asc" | "desc" } {
  if (current.sort === column) return { sort: column, order: current.order === "asc" ? "desc" : "asc" };
  return { sort: column, order: column === "index" ? "asc" : "desc" };
}
