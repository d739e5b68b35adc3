/** `/jobs` Jobs: submit a pipeline, training run or sweep, or import an SAE (server-validated); watch the live job list. */
import { useNavigate } from "react-router";
import { actionableMessage, errorCode, errorField, errorMessage } from "../api/errors";
import { liveOnlyPage } from "../components/LiveOnly";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ImportSaeForm } from "../components/ImportSaeForm";
import { JobForm } from "../components/JobForm";
import { JobList } from "../components/JobList";
import { Section } from "../components/Section";
import { SkeletonLines } from "../components/Skeleton";
import { SweepForm } from "../components/SweepForm";
import type { Problems } from "../hooks/useCheckedForm";
import { useDatasets } from "../hooks/useDatasets";
import { useImportSae } from "../hooks/useImportSae";
import type { JobAnswer } from "../hooks/useJobMutation";
import { useJobs } from "../hooks/useJobs";
import { useSubmitJob } from "../hooks/useSubmitJob";
import { importServerErrors, type ImportSaeInput, type ImportServerValidation } from "../lib/importForm";
import { useSubmitSweep } from "../hooks/useSubmitSweep";
import { serverFieldErrors, type JobSubmission, type ServerValidation } from "../lib/jobForm";
import { jobPath } from "../lib/routes";
import { sweepServerErrors, type SweepSubmission } from "../lib/sweepForm";

export const JobsPage = liveOnlyPage("Jobs", "Running jobs", LiveJobsPage);

function LiveJobsPage() {
  const { jobs, fetching, error, liveError, retry } = useJobs();
  const datasets = useDatasets();
  const { submit, submitting } = useSubmitJob();
  const { importSae, importing } = useImportSae();
  const sweep = useSubmitSweep();
  const navigate = useNavigate();

  /** A form's answer: the server's problems to show (BAD_INPUT names its field), or null once on the new job's page. */
  function shown<P extends Problems<object>>({ job, error }: JobAnswer, fieldProblems: (message: string, field: string | null) => P): P | null {
    if (error) return errorCode(error) === "BAD_INPUT" ? fieldProblems(errorMessage(error), errorField(error)) : ({ fields: {}, general: [actionableMessage(error)] } as unknown as P);
    if (job) navigate(jobPath(job.id));
    return null;
  }
  const onImport = async (input: ImportSaeInput): Promise<ImportServerValidation | null> => shown(await importSae(input), importServerErrors);
  const onSweep = async (s: SweepSubmission) => shown(await sweep.submit(s), sweepServerErrors);
  const onSubmit = async (s: JobSubmission): Promise<ServerValidation | null> => shown(await submit(s), serverFieldErrors);

  return (
    <div className="stack">
      <h1>Jobs</h1>
      <Section title="Recent jobs" actions={liveError ? <span className="small error-text">live updates lost: {liveError.message}</span> : <span className="small muted">live</span>}>
        {error && !jobs ? (
          <ErrorState what="the job list" error={error} onRetry={retry} />
        ) : fetching || !jobs ? (
          <SkeletonLines lines={5} label="Loading jobs" />
        ) : jobs.length === 0 ? (
          <EmptyState title="No jobs yet">Submit a pipeline below.</EmptyState>
        ) : (
          <JobList jobs={jobs} />
        )}
      </Section>
      <Section title="New job">
        <JobForm datasets={datasets.datasets ?? []} submitting={submitting} onSubmit={onSubmit} />
      </Section>
      <Section title="Import an SAE">
        <ImportSaeForm submitting={importing} onSubmit={onImport} />
      </Section>
      <Section title="New sweep: several SAEs on one activation stream">
        <p className="small muted" style={{ marginTop: 0 }}>
          Every SAE reads the same batches (each read once), then each run is evaluated and analysed; compare them on the Compare page.
        </p>
        <SweepForm datasets={datasets.datasets ?? []} submitting={sweep.submitting} onSubmit={onSweep} />
      </Section>
    </div>
  );
}
