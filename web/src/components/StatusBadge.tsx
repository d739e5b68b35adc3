/** A job status as a pill whose meaning reads without colour: a glyph (drawn by CSS, so it is not part of the text) and the word. */

const LOOK: Record<string, { tone: string; glyph: string }> = {
  SUCCEEDED: { tone: "good", glyph: "✓" },
  RUNNING: { tone: "warn", glyph: "▶" },
  QUEUED: { tone: "", glyph: "…" },
  FAILED: { tone: "bad", glyph: "✕" },
  CANCELLED: { tone: "bad", glyph: "⊘" },
};

export function StatusBadge({ status }: { status: string }) {
  const look = LOOK[status];
  return (
    <span className={`badge ${look?.tone ?? ""}`} data-glyph={look?.glyph} data-testid="job-status" data-status={status.toLowerCase()}>
      {status.toLowerCase()}
    </span>
  );
}
