/** The live job list. */
import type { JobSummary } from "../hooks/jobFields";
import { JobRow } from "./JobRow";

export function JobList({ jobs }: { jobs: readonly JobSummary[] }) {
  return (
    <div className="table-wrap">
      <table data-testid="job-list">
        <thead>
          <tr>
            <th>Job</th>
            <th>Status</th>
            <th>Progress</th>
            <th className="hide-narrow">Created</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <JobRow key={j.id} job={j} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
