/** URLs of the client's pages (one place, so links and tests agree). */

const enc = encodeURIComponent;

export const featurePath = (runId: string, index: number) => `/runs/${enc(runId)}/features/${index}`;
export const runPath = (runId: string) => `/runs/${enc(runId)}`;
export const mapPath = (runId: string) => `/runs/${enc(runId)}/map`;
export const explorerPath = (runId: string) => `/?run=${enc(runId)}`;
export const jobPath = (jobId: string) => `/jobs/${enc(jobId)}`;
export const searchPath = (runId: string | null, q: string) =>
  `/search?${new URLSearchParams({ ...(runId ? { run: runId } : {}), q }).toString()}`;
export const promptPath = (runId: string | null, text?: string) =>
  `/prompt?${new URLSearchParams({ ...(runId ? { run: runId } : {}), ...(text ? { text } : {}) }).toString()}`;
/** The Compare page over a dataset's runs, or over chosen runs of one dataset. */
export const comparePath = ({ datasetId, runIds }: { datasetId?: string | null; runIds?: readonly string[] }) =>
  `/compare?${new URLSearchParams({ ...(datasetId ? { dataset: datasetId } : {}), ...(runIds?.length ? { runs: runIds.join(",") } : {}) }).toString()}`;
