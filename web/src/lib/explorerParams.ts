/** The explorer's URL state (page, sort, order, filters) parsed from and written to the query string. */
import type { FeatureFilter, FeatureSort, SortOrder } from "../gql/graphql";

export const SORTS: Record<string, FeatureSort> = {
  index: "INDEX",
  density: "DENSITY",
  maxActivation: "MAX_ACTIVATION",
  labelScore: "LABEL_SCORE",
};
export type SortParam = keyof typeof SORTS;

/** Feature groups the explorer can leave out; dead features are left out unless the URL says `hide=none`. */
export type HideGroup = "dead" | "dense";
export const DEFAULT_HIDE: readonly HideGroup[] = ["dead"];

/** Density filter bound that leaves out exactly the dead features (a feature that fired once has 1 / n_tokens). */
export const ALIVE_MIN_DENSITY = 1e-12;
/** AnalyseConfig.dense_threshold's default, used when the run's summary does not say. */
export const DEFAULT_DENSE_THRESHOLD = 0.1;

export interface ExplorerState {
  page: number;
  sort: SortParam;
  order: "asc" | "desc";
  grades: string[];
  /** log10 density bounds (e.g. -4 = 0.01% of tokens). */
  minLog10: number | null;
  maxLog10: number | null;
  label: string;
  /** Groups left out of the list (`hide=` in the URL; absent = dead only, `none` = nothing). */
  hide: HideGroup[];
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
    hide: parseHide(p.get("hide")),
  };
}

function parseHide(raw: string | null): HideGroup[] {
  if (raw === null) return [...DEFAULT_HIDE];
  const groups = raw.split(",").map((g) => g.trim());
  return (["dead", "dense"] as const).filter((g) => groups.includes(g));
}

/** The `hide` URL value for a set of groups (null = the default, so default URLs stay short). */
export function hideParam(groups: readonly HideGroup[]): string | null {
  const sorted = (["dead", "dense"] as const).filter((g) => groups.includes(g));
  if (sorted.join(",") === DEFAULT_HIDE.join(",")) return null;
  return sorted.length ? sorted.join(",") : "none";
}

export function sortVariables(s: ExplorerState): { sort: FeatureSort; order: SortOrder } {
  return { sort: SORTS[s.sort], order: s.order === "desc" ? "DESC" : "ASC" };
}

/**
 * The GraphQL filter for the state, or null when nothing is filtered. Hiding dead features raises the lower
 * density bound just above zero; hiding dense ones caps the upper bound at the run's dense threshold (dense means
 * density > threshold, and the server keeps density <= maxDensity).
 */
export function featureFilter(s: ExplorerState, denseThreshold = DEFAULT_DENSE_THRESHOLD): FeatureFilter | null {
  const f: FeatureFilter = {};
  if (s.grades.length) f.grades = s.grades;
  const lows = [s.minLog10 !== null ? 10 ** s.minLog10 : null, s.hide.includes("dead") ? ALIVE_MIN_DENSITY : null];
  const highs = [s.maxLog10 !== null ? 10 ** s.maxLog10 : null, s.hide.includes("dense") ? denseThreshold : null];
  const low = lows.filter((v): v is number => v !== null);
  const high = highs.filter((v): v is number => v !== null);
  if (low.length) f.minDensity = Math.max(...low);
  if (high.length) f.maxDensity = Math.min(...high);
  if (s.label.trim()) f.labelContains = s.label.trim();
  return Object.keys(f).length ? f : null;
}

/** True when the user narrowed the list beyond the default (for the empty-state message). */
export function isNarrowed(s: ExplorerState): boolean {
  return s.grades.length > 0 || s.minLog10 !== null || s.maxLog10 !== null || !!s.label.trim() || hideParam(s.hide) !== null;
}

/** Clicking a column: a new column sorts descending for measures and ascending for the index; the same flips. */
export function nextSort(current: ExplorerState, column: SortParam): { sort: SortParam; order: "asc" | "desc" } {
  if (current.sort === column) return { sort: column, order: current.order === "asc" ? "desc" : "asc" };
  return { sort: column, order: column === "index" ? "asc" : "desc" };
}
