/** Attribution rows for display: every position's positive and negative features, largest |attribution| first. */

export interface AttributionRow {
  position: number;
  index: number;
  label?: string | null;
  activation: number;
  attribution: number;
}

interface AttributedToken {
  position: number;
  positive: Omit<AttributionRow, "position">[];
  negative: Omit<AttributionRow, "position">[];
}

export function topAttributions(tokens: AttributedToken[], n: number): AttributionRow[] {
  const rows = tokens.flatMap((t) => [...t.positive, ...t.negative].map((a) => ({ ...a, position: t.position })));
  rows.sort((a, b) => Math.abs(b.attribution) - Math.abs(a.attribution) || a.position - b.position || a.index - b.index);
  return rows.slice(0, n);
}
