/** A job status as a coloured pill. */

const TONE: Record<string, string> = { SUCCEEDED: "good", RUNNING: "warn", QUEUED: "", FAILED: "bad", CANCELLED: "bad" };

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${TONE[status] ?? ""}`} data-testid="job-status">
      {status.toLowerCase()}
    </span>
  );
}
