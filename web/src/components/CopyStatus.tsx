/** What the last copy did ("Link copied", or why it could not), announced to screen readers; empty before one. */
export function CopyStatus({ status }: { status: { ok: boolean; text: string } | null }) {
  return (
    <span role="status" className={`small ${status && !status.ok ? "error-text" : "muted"}`}>
      {status?.text ?? ""}
    </span>
  );
}
