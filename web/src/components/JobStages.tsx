/** A pipeline's stages (collect, train, evaluate, analyse) with their own status and progress. */
import type { JobSummary } from "../hooks/jobFields";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";

export function JobStages({ stages }: { stages: readonly JobSummary[] }) {
  if (!stages.length) return null;
  return (
    <ul className="plain" data-testid="job-stages">
      {stages.map((s) => (
        <li key={s.id} style={{ alignItems: "center" }}>
          <span style={{ minWidth: 80 }}>{s.kind.toLowerCase()}</span>
          <StatusBadge status={s.status} />
          <div style={{ flex: 1 }}>
            <ProgressBar value={s.status === "SUCCEEDED" ? 1 : s.status === "QUEUED" ? 0 : s.progress} label={`${s.kind.toLowerCase()} progress`} />
          </div>
          <span className="small muted" style={{ flex: 2 }}>
            {s.status === "FAILED" ? <span className="error-text">{s.error}</span> : s.message || s.stage}
          </span>
        </li>
      ))}
    </ul>
  );
}
