/** The live job list. */
import type { JobSummary } from "../hooks/jobFields";
import { JobRow } from "./JobRow";
import { DataTable } from "./DataTable";

export function JobList({ jobs }: { jobs: readonly JobSummary[] }) {
  return (
    <DataTable testId="job-list" columns={["Job", "Status", "Progress", { label: "Created", className: "hide-narrow" }]}>
      {jobs.map((j) => (
        <JobRow key={j.id} job={j} />
      ))}
    </DataTable>
  );
}
