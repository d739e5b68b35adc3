/** Ranked keyword search over a static export's search index: labels first, then tokens, then example text. */
import type { StaticSearchEntry } from "./types";

export interface StaticSearchHit {
  index: number;
  label: string | null;
  grade: string | null;
  density: number;
  score: number;
  field: "LABEL" | "TOKEN" | "EXAMPLE";
  snippet: string;
}

const WEIGHT = { LABEL: 3, TOKEN: 2, EXAMPLE: 1 } as const;

export function terms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).map((t) => t.trim()).filter(Boolean);
}

/** Up to `radius` characters either side of the first occurrence of `term` in `text`, with ellipses. */
export function snippetAround(text: string, term: string, radius = 40): string {
  const at = text.toLowerCase().indexOf(term);
  if (at < 0) return text.slice(0, radius * 2);
  const start = Math.max(0, at - radius);
  const end = Math.min(text.length, at + term.length + radius);
  return `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
}

function scoreEntry(e: StaticSearchEntry, ts: string[]): StaticSearchHit | null {
  let score = 0;
  let best: { field: StaticSearchHit["field"]; snippet: string; w: number } | null = null;
  const label = (e.label ?? "").toLowerCase();
  for (const t of ts) {
    let w = 0;
    let field: StaticSearchHit["field"] | null = null;
    let snippet = "";
    if (label.includes(t)) {
      w = WEIGHT.LABEL * (label === t ? 2 : 1);
      field = "LABEL";
      snippet = e.label ?? "";
    } else {
      const tok = e.tokens.find((x) => x.toLowerCase().trim() === t) ?? e.tokens.find((x) => x.toLowerCase().includes(t));
      if (tok !== undefined) {
        w = WEIGHT.TOKEN * (tok.toLowerCase().trim() === t ? 1.5 : 1);
        field = "TOKEN";
        snippet = `token “${tok}”`;
      } else {
        const ex = e.examples.find((x) => x.toLowerCase().includes(t));
        if (ex !== undefined) {
          w = WEIGHT.EXAMPLE;
          field = "EXAMPLE";
          snippet = snippetAround(ex, t);
        }
      }
    }
    if (!field) return null; // every term must match somewhere
    score += w;
    if (!best || w > best.w) best = { field, snippet, w };
  }
  if (!best) return null;
  return { index: e.index, label: e.label, grade: e.grade, density: e.density, score, field: best.field, snippet: best.snippet };
}

export function searchEntries(entries: readonly StaticSearchEntry[], query: string, first = 20): StaticSearchHit[] {
  const ts = terms(query);
  if (!ts.length) return [];
  const hits: StaticSearchHit[] = [];
  for (const e of entries) {
    const h = scoreEntry(e, ts);
    if (h) hits.push(h);
  }
  hits.sort((a, b) => b.score - a.score || b.density - a.density || a.index - b.index);
  return hits.slice(0, first);
}
