/** A feature's interpretability grade as a coloured pill. */

const TONE: Record<string, string> = { high: "good", a: "good", medium: "warn", b: "warn", low: "bad", c: "bad", dead: "bad", dense: "warn" };

export function GradeBadge({ grade }: { grade: string | null | undefined }) {
  if (!grade) return <span className="muted">—</span>;
  return <span className={`badge ${TONE[grade.toLowerCase()] ?? ""}`}>{grade}</span>;
}
