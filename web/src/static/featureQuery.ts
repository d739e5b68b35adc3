/** The `features` query over a static export's feature list: filter, sort and one page, as the gateway does. */
import type { StaticFeatureSummary } from "./types";

export interface FeatureQueryArgs {
  page?: number | null;
  first?: number | null;
  sort?: "INDEX" | "DENSITY" | "MAX_ACTIVATION" | "LABEL_SCORE" | null;
  order?: "ASC" | "DESC" | null;
  filter?: {
    grades?: string[] | null;
    minDensity?: number | null;
    maxDensity?: number | null;
    labelContains?: string | null;
  } | null;
}

const SORT_KEY = {
  INDEX: (f: StaticFeatureSummary) => f.index,
  DENSITY: (f: StaticFeatureSummary) => f.density,
  MAX_ACTIVATION: (f: StaticFeatureSummary) => f.maxActivation,
  LABEL_SCORE: (f: StaticFeatureSummary) => f.labelScore ?? Number.NEGATIVE_INFINITY,
} as const;

export function queryFeatures(all: readonly StaticFeatureSummary[], args: FeatureQueryArgs) {
  const first = Math.max(1, args.first ?? 50);
  const f = args.filter ?? {};
  const needle = f.labelContains?.trim().toLowerCase();
  const grades = f.grades?.length ? new Set(f.grades) : null;
  const rows = all.filter(
    (r) =>
      (!grades || (r.grade !== null && grades.has(r.grade))) &&
      (f.minDensity == null || r.density >= f.minDensity) &&
      (f.maxDensity == null || r.density <= f.maxDensity) &&
      (!needle || (r.label ?? "").toLowerCase().includes(needle)),
  );
  const key = SORT_KEY[args.sort ?? "INDEX"];
  const dir = args.order === "DESC" ? -1 : 1;
  rows.sort((a, b) => (key(a) - key(b)) * dir || a.index - b.index);
  const pages = Math.max(1, Math.ceil(rows.length / first));
  const page = Math.min(Math.max(1, args.page ?? 1), pages);
  const nodes = rows.slice((page - 1) * first, page * first);
  return {
    totalCount: rows.length,
    page,
    pageSize: first,
    nodes,
    pageInfo: { hasNextPage: page < pages, hasPreviousPage: page > 1, startCursor: null, endCursor: null },
  };
}
