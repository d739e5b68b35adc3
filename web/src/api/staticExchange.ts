/** A urql exchange that answers the explorer, detail, run and search queries from a static export's JSON files. */
import { makeResult, type Exchange, type Operation, type OperationResult } from "@urql/core";
import { getOperationAST } from "graphql";
import { filter, fromPromise, mergeMap, pipe, share, takeUntil } from "wonka";
import { queryFeatures, type FeatureQueryArgs } from "../static/featureQuery";
import { loadStatic } from "../static/loader";
import { searchEntries } from "../static/search";
import type { StaticFeature, StaticFeatureSummary, StaticRun, StaticSearchEntry } from "../static/types";

type Vars = Record<string, unknown>;
type Resolver = (vars: Vars) => Promise<Record<string, unknown>>;

const run = () => loadStatic<StaticRun>("run.json");

function sameRun(r: StaticRun, id: unknown): boolean {
  return id === undefined || id === null || String(id) === String(r.id);
}

/** Operation name (as the hooks name their documents) -> how to answer it from the files. */
const RESOLVERS: Record<string, Resolver> = {
  ServerInfo: async () => ({
    serverInfo: { version: "static export", mode: "static", authRequired: false, maxPromptTokens: 0, maxPageSize: 1000 },
  }),
  Runs: async () => ({ runs: [await run()] }),
  Run: async (v) => {
    const r = await run();
    return { run: sameRun(r, v.id) ? r : null };
  },
  RunFacts: async (v) => {
    const r = await run();
    return { run: sameRun(r, v.id) ? r : null };
  },
  RunMetrics: async (v) => {
    const r = await run();
    return { run: sameRun(r, v.id) ? r : null };
  },
  FeaturesPage: async (v) => {
    const all = await loadStatic<StaticFeatureSummary[]>("features.json");
    return { features: queryFeatures(all, v as FeatureQueryArgs) };
  },
  FeatureDetail: async (v) => {
    const r = await run();
    const index = Number(v.index);
    if (!sameRun(r, v.runId) || !Number.isInteger(index) || index < 0 || index >= r.dSae) return { feature: null };
    try {
      return { feature: await loadStatic<StaticFeature>(`features/${index}.json`) };
    } catch {
      return { feature: null }; // features without analysis results are not exported
    }
  },
  Search: async (v) => {
    const entries = await loadStatic<StaticSearchEntry[]>("search-index.json");
    return { search: searchEntries(entries, String(v.query ?? ""), Number(v.first ?? 20)) };
  },
};

function unavailable(op: Operation, name: string): OperationResult {
  return makeResult(op, {
    errors: [
      {
        message: `${name || "This request"} needs the live API: this is a static export (explorer, feature pages and search only).`,
        extensions: { code: "UNAVAILABLE" },
      },
    ],
  });
}

async function resolve(op: Operation): Promise<OperationResult> {
  const name = getOperationAST(op.query)?.name?.value ?? "";
  const resolver = op.kind === "query" ? RESOLVERS[name] : undefined;
  if (!resolver) return unavailable(op, name);
  try {
    return makeResult(op, { data: await resolver((op.variables ?? {}) as Vars) });
  } catch (err) {
    return makeResult(op, {
      errors: [{ message: err instanceof Error ? err.message : String(err), extensions: { code: "UNAVAILABLE" } }],
    });
  }
}

export const staticExchange: Exchange = () => (ops$) => {
  const shared = pipe(ops$, share);
  return pipe(
    shared,
    filter((op) => op.kind !== "teardown"),
    mergeMap((op) =>
      pipe(
        fromPromise(resolve(op)),
        takeUntil(pipe(shared, filter((t) => t.kind === "teardown" && t.key === op.key))),
      ),
    ),
  );
};
