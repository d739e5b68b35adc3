/** One job in the list: kind, name, live status, progress bar and message. */
import { Link } from "react-router";
import type { JobSummary } from "../hooks/jobFields";
import { TERMINAL_STATUSES } from "../hooks/jobFields";
import { fmtDate } from "../lib/format";
import { jobPath } from "../lib/routes";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";

export function JobRow({ job }: { job: JobSummary }) {
  const progress = job.status === "SUCCEEDED" ? 1 : job.progress;
  return (
    <tr data-testid="job-row" data-job-id={job.id}>
      <td>
        <Link to={jobPath(job.id)}>{job.name || `${job.kind.toLowerCase()} ${job.id}`}</Link>
        <div className="small muted">{job.kind.toLowerCase()}</div>
      </td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td style={{ minWidth: 140 }}>
        {TERMINAL_STATUSES.has(job.status) && job.status !== "SUCCEEDED" ? (
          <span className="small muted">—</span>
        ) : (
          <ProgressBar value={job.status === "QUEUED" ? 0 : progress} label={`progress of job ${job.id}`} />
        )}
        <div className="small muted" style={{ maxWidth: 320, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
          {job.status === "FAILED" ? <span className="error-text">{job.error}</span> : [job.stage, job.message].filter(Boolean).join(" · ")}
        </div>
      </td>
      <td className="small muted hide-narrow">{fmtDate(job.createdAt)}</td>
    </tr>
  );
}
