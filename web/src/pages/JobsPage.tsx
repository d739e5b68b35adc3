/** `/jobs` Jobs: submit a pipeline, training run or sweep, or import an SAE (server-validated); watch the live job list. */
import { useNavigate } from "react-router";
import { actionableMessage, errorCode, errorField, errorMessage } from "../api/errors";
import { isStaticMode } from "../api/staticMode";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ImportSaeForm } from "../components/ImportSaeForm";
import { JobForm } from "../components/JobForm";
import { JobList } from "../components/JobList";
import { Section } from "../components/Section";
import { SkeletonLines } from "../components/Skeleton";
import { SweepForm } from "../components/SweepForm";
import { StaticNotice } from "../components/StaticNotice";
import { useDatasets } from "../hooks/useDatasets";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useImportSae } from "../hooks/useImportSae";
import { useJobs } from "../hooks/useJobs";
import { useSubmitJob } from "../hooks/useSubmitJob";
import { importServerErrors, type ImportSaeInput, type ImportServerValidation } from "../lib/importForm";
import { useSubmitSweep } from "../hooks/useSubmitSweep";
import { serverFieldErrors, type JobSubmission, type ServerValidation } from "../lib/jobForm";
import { pageTitle } from "../lib/pageTitle";
import { jobPath } from "../lib/routes";
import { sweepServerErrors, type SweepSubmission } from "../lib/sweepForm";

export function JobsPage() {
  useDocumentTitle(pageTitle("Jobs"));
  if (isStaticMode())
    return (
      <div className="stack">
        <h1>Jobs</h1>
        <StaticNotice feature="Running jobs" />
      </div>
    );
  return <LiveJobsPage />;
}

function LiveJobsPage() {
  const { jobs, fetching, error, liveError, retry } = useJobs();
  const datasets = useDatasets();
  const { submit, submitting } = useSubmitJob();
  const { importSae, importing } = useImportSae();
  const sweep = useSubmitSweep();
  const navigate = useNavigate();

  async function onImport(input: ImportSaeInput): Promise<ImportServerValidation | null> {
    const { job, error: err } = await importSae(input);
    if (err) {
      if (errorCode(err) === "BAD_INPUT") return importServerErrors(errorMessage(err), errorField(err));
      return { fields: {}, general: [actionableMessage(err)] };
    }
    if (job) navigate(jobPath(job.id));
    return null;
  }

  async function onSweep(s: SweepSubmission) {
    const { job, error: err } = await sweep.submit(s);
    if (err) {
      if (errorCode(err) === "BAD_INPUT") return sweepServerErrors(errorMessage(err), errorField(err));
      return { fields: {}, general: [actionableMessage(err)] };
    }
    if (job) navigate(jobPath(job.id));
    return null;
  }

  async function onSubmit(s: JobSubmission): Promise<ServerValidation | null> {
    const { job, error: err } = await submit(s);
    if (err) {
      if (errorCode(err) === "BAD_INPUT") return serverFieldErrors(errorMessage(err), errorField(err));
      return { fields: {}, general: [actionableMessage(err)] };
    }
    if (job) navigate(jobPath(job.id));
    return null;
  }

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
