/** A feature's auto-label grade as a pill whose meaning reads without colour: a bar glyph (drawn by CSS, so it is not part of the text), the word, and a tooltip. */
import { GRADE_HELP } from "../lib/scores";

const LOOK: Record<string, { tone: string; glyph: string }> = {
  high: { tone: "good", glyph: "▮▮▮" },
  medium: { tone: "warn", glyph: "▮▮▯" },
  low: { tone: "bad", glyph: "▮▯▯" },
  dead: { tone: "bad", glyph: "✕" },
  dense: { tone: "warn", glyph: "≋" },
};

export function GradeBadge({ grade }: { grade: string | null | undefined }) {
  if (!grade) return <span className="muted" title="Not graded (no score, or too few held-out firings)">—</span>;
  const look = LOOK[grade.toLowerCase()];
  return (
    <span className={`badge ${look?.tone ?? ""}`} data-glyph={look?.glyph} title={GRADE_HELP} data-testid="grade-badge">
      {grade}
    </span>
  );
}
