/** The Compare page's model: points grouped into one series per architecture, each axis's front, the URL state. */

export interface ComparePointView {
  runId: string;
  name: string;
  architecture: string;
  dSae?: number | null;
  k?: number | null;
  sparsityCoefficient?: number | null;
  l0?: number | null;
  explainedVariance?: number | null;
  ceLossRecovered?: number | null;
  deadFraction?: number | null;
  denseFraction?: number | null;
  evaluated: boolean;
  onEvFront: boolean;
  onCeFront: boolean;
}

export type CompareMetric = "explainedVariance" | "ceLossRecovered";

export interface PlotPoint {
  runId: string;
  name: string;
  architecture: string;
  x: number;
  y: number;
  onFront: boolean;
}

export interface Series {
  architecture: string;
  points: PlotPoint[];
}

/** One series per architecture (in first-seen order), holding the points that have both L0 and the metric. */
export function seriesByArchitecture(points: readonly ComparePointView[], metric: CompareMetric): Series[] {
  const out = new Map<string, PlotPoint[]>();
  for (const p of points) {
    const y = p[metric];
    if (p.l0 == null || y == null) continue;
    const list = out.get(p.architecture) ?? [];
    list.push({ runId: p.runId, name: p.name, architecture: p.architecture, x: p.l0, y, onFront: metric === "explainedVariance" ? p.onEvFront : p.onCeFront });
    out.set(p.architecture, list);
  }
  return [...out.entries()].map(([architecture, pts]) => ({ architecture, points: pts.sort((a, b) => a.x - b.x) }));
}

/** The knob that set a run's sparsity, for the table: k for the TopK family, else the L1/L0 coefficient. */
export function sparsityKnob(p: ComparePointView): string {
  if (p.k != null) return `k ${p.k}`;
  if (p.sparsityCoefficient != null) return `${p.architecture === "jumprelu" ? "L0" : "L1"} coef ${p.sparsityCoefficient}`;
  return "–";
}

/** `?dataset=ID` or `?runs=a,b` (both allowed: the runs win). */
export function parseCompareParams(params: URLSearchParams): { datasetId: string | null; runIds: string[] | null } {
  const runs = (params.get("runs") ?? "").split(",").map((r) => r.trim()).filter(Boolean);
  return { datasetId: params.get("dataset") || null, runIds: runs.length ? runs : null };
}

/** Colours of the series (CSS variables of the theme, cycled). */
export const SERIES_COLOURS = ["var(--chart-1)", "var(--chart-2)", "var(--chart-3)", "var(--chart-4)", "var(--chart-5)", "var(--chart-6)"];
