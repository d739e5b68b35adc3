/** Job progress: a filled bar for a known fraction, a sliding one when the total is unknown. */

export function ProgressBar({ value, label, testId }: { value: number | null | undefined; label?: string; testId?: string }) {
  const known = value !== null && value !== undefined && Number.isFinite(value);
  const pct = known ? Math.round(Math.min(1, Math.max(0, value)) * 100) : undefined;
  return (
    <div
      className={`progress${known ? "" : " indeterminate"}`}
      role="progressbar"
      aria-label={label ?? "progress"}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      data-testid={testId}
    >
      <span style={known ? { width: `${pct}%` } : undefined} />
    </div>
  );
}
