/** The prompt analyser's URL state: text, shading mode and its choices, selected token, ranking (share links). */

/** How the prompt is shaded: each token's strongest feature, chosen features, or how many features are strong. */
export type ShadeMode = "max" | "features" | "count";
/** How features are ranked over the whole prompt. */
export type RankBy = "sum" | "max" | "count";

export interface PromptState {
  text: string;
  shade: ShadeMode;
  /** Features to shade by (`f=12,40`); with one feature its exact trace is used. */
  features: number[];
  /** "count" mode: count features at or above this activation (`x=`); null = chosen from the prompt. */
  threshold: number | null;
  /** Selected token position (`tok=`), null = none. */
  token: number | null;
  rank: RankBy;
}

const SHADES: readonly ShadeMode[] = ["max", "features", "count"];
const RANKS: readonly RankBy[] = ["sum", "max", "count"];

function intList(raw: string | null): number[] {
  const out: number[] = [];
  for (const part of (raw ?? "").split(",")) {
    const t = part.trim();
    if (/^\d+$/.test(t) && !out.includes(Number(t))) out.push(Number(t));
  }
  return out;
}

function nonNegative(raw: string | null): number | null {
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export function parsePromptParams(p: URLSearchParams): PromptState {
  const features = intList(p.get("f"));
  const shadeRaw = p.get("shade");
  // `f=` alone (older links, or a hand-made one) means "shade by these features"
  const shade = SHADES.includes(shadeRaw as ShadeMode) ? (shadeRaw as ShadeMode) : features.length ? "features" : "max";
  const tok = p.get("tok");
  return {
    text: p.get("text") ?? "",
    shade: shade === "features" && !features.length ? "max" : shade,
    features,
    threshold: nonNegative(p.get("x")),
    token: tok !== null && /^\d+$/.test(tok) ? Number(tok) : null,
    rank: RANKS.includes(p.get("rank") as RankBy) ? (p.get("rank") as RankBy) : "sum",
  };
}

/** The URL parameters for a state (defaults left out); merge into the current ones to keep `run`. */
export function promptParamUpdates(s: PromptState): Record<string, string | null> {
  return {
    text: s.text || null,
    shade: s.shade === "max" ? null : s.shade,
    f: s.shade === "features" && s.features.length ? s.features.join(",") : null,
    x: s.shade === "count" && s.threshold !== null ? String(s.threshold) : null,
    tok: s.token !== null ? String(s.token) : null,
    rank: s.rank === "sum" ? null : s.rank,
  };
}
