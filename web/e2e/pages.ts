/**
 * The pages every cross-cutting spec visits (deep links, accessibility scan), with ids read from the running
 * gateway: its newest analysed run, a strong feature of it, and a job.
 */
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export interface Target {
  name: string;
  path: string;
  /** Something the page shows once its data is in. */
  ready: (page: Page) => Promise<void>;
  /** Text the tab title must contain. */
  title: RegExp;
}

async function gql<T>(request: APIRequestContext, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await request.post("/graphql", { data: { query, variables } });
  expect(res.ok(), `POST /graphql answered ${res.status()}`).toBe(true);
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data!;
}

export interface Ids {
  runId: string;
  runName: string;
  dSae: number;
  feature: number;
  jobId: string | null;
}

/**
 * The analysed run with the most features (the seeded TopK run, also after the jobs spec trained a smaller one;
 * newest first among equals), its feature with the largest max activation, and the newest job.
 */
export async function readIds(request: APIRequestContext): Promise<Ids> {
  const { runs } = await gql<{ runs: { id: string; name: string; analysed: boolean; dSae: number; featureCount: number; createdAt: string }[] }>(
    request,
    "{ runs { id name analysed dSae featureCount createdAt } }",
  );
  const run = runs.filter((r) => r.analysed).sort((a, b) => b.featureCount - a.featureCount || b.createdAt.localeCompare(a.createdAt))[0];
  if (!run) throw new Error("the gateway has no analysed run: seed one first (services.gateway.dev_seed)");
  const { features } = await gql<{ features: { nodes: { index: number }[] } }>(
    request,
    "query($r: ID!) { features(runId: $r, first: 1, sort: MAX_ACTIVATION, order: DESC) { nodes { index } } }",
    { r: run.id },
  );
  const { jobs } = await gql<{ jobs: { id: string }[] }>(request, "{ jobs(first: 1) { id } }");
  return { runId: run.id, runName: run.name, dSae: run.dSae, feature: features.nodes[0].index, jobId: jobs[0]?.id ?? null };
}

export const PROMPT = "Once upon a time there was a little cat named Tom. He liked to play in the park.";

/** Every page of the client, reached by a direct load of its URL. */
export function targets(ids: Ids): Target[] {
  const enc = encodeURIComponent;
  const run = enc(ids.runId);
  const list: Target[] = [
    { name: "explorer", path: `/?run=${run}`, ready: (p) => expect(p.getByTestId("feature-row").first()).toBeVisible(), title: /^Explorer · / },
    { name: "feature", path: `/runs/${run}/features/${ids.feature}`, ready: (p) => expect(p.getByTestId("feature-page")).toBeVisible(), title: new RegExp(`^#${ids.feature}\\b`) },
    { name: "feature-not-found", path: `/runs/${run}/features/${ids.dSae + 5}`, ready: (p) => expect(p.getByTestId("feature-range")).toBeVisible(), title: new RegExp(`^#${ids.dSae + 5}`) },
    { name: "map", path: `/runs/${run}/map`, ready: (p) => expect(p.getByTestId("feature-map")).toBeVisible(), title: /^Dictionary map/ },
    { name: "run", path: `/runs/${run}`, ready: (p) => expect(p.getByTestId("training-curves")).toBeVisible(), title: /run summary/ },
    {
      name: "prompt",
      path: `/prompt?run=${run}&text=${enc(PROMPT)}&tok=8`,
      // the first analysePrompt of a fresh gateway loads the LM (20-40 s on a loaded 2-core machine)
      ready: (p) => expect(p.getByTestId("token-features")).toBeVisible({ timeout: 60_000 }),
      title: /^Prompt “Once upon/,
    },
    { name: "search", path: `/search?run=${run}&q=the`, ready: (p) => expect(p.getByTestId("search-results").or(p.getByTestId("empty-state"))).toBeVisible(), title: /^Search “the”/ },
    { name: "jobs", path: "/jobs", ready: (p) => expect(p.getByTestId("job-list")).toBeVisible(), title: /^Jobs — saelab$/ },
    { name: "compare", path: `/compare?runs=${run}`, ready: (p) => expect(p.getByTestId("compare-row").first()).toBeVisible(), title: /^Compare runs/ },
    { name: "bookmarks", path: "/bookmarks", ready: (p) => expect(p.getByTestId("bookmarks-page")).toBeVisible(), title: /^Bookmarks/ },
    { name: "not-found", path: "/no/such/page", ready: (p) => expect(p.getByText("Page not found")).toBeVisible(), title: /^Page not found/ },
  ];
  if (ids.jobId) list.push({ name: "job", path: `/jobs/${enc(ids.jobId)}`, ready: (p) => expect(p.getByTestId("job-page")).toBeVisible(), title: /\((succeeded|failed|running|queued|cancelled)\)/ });
  return list;
}
