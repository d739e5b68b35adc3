// A tiny in-memory stand-in for the saelab gateway (same schema, fake data) to develop and smoke-test the client
// without the real one. NOT used by the real e2e run, which must target the real gateway (E2E_BASE_URL).
// Usage: node e2e/mock-server.mjs [--port 8010] [--dir dist]   (mutations need "Authorization: Bearer test-token")
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, execute, GraphQLError, parse, validate } from "graphql";
import { useServer as serveGraphqlWs } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { activation, featureDetail, makeFeatures, makeRun, metricAt, RUN_ID, tokenize } from "./mock/data.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const PORT = Number(arg("port", process.env.MOCK_PORT ?? "8010"));
const DIR = arg("dir", join(here, "..", "dist"));
const TOKEN = process.env.MOCK_TOKEN ?? "test-token";
const TICK_MS = Number(process.env.MOCK_TICK_MS ?? "250");

const schema = buildSchema(readFileSync(join(here, "..", "schema.graphql"), "utf8"));

// ---------------------------------------------------------------- state
const features = makeFeatures();
const runs = new Map([[RUN_ID, makeRun(features)]]);
const jobs = new Map();
let nextId = 1;
const listeners = { job: new Set(), metrics: new Set() };

function publish(kind, payload) {
  for (const l of listeners[kind]) l(payload);
}

function iterate(kind, filter, wrap) {
  const queue = [];
  let wake = null;
  const listener = (p) => {
    if (!filter(p)) return;
    queue.push(wrap(p));
    wake?.();
  };
  listeners[kind].add(listener);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      while (!queue.length) await new Promise((r) => (wake = r));
      return { value: queue.shift(), done: false };
    },
    async return() {
      listeners[kind].delete(listener);
      return { value: undefined, done: true };
    },
  };
}

const bad = (message, field) => new GraphQLError(message, { extensions: { code: "BAD_INPUT", ...(field ? { field } : {}) } });
const notFound = (message) => new GraphQLError(message, { extensions: { code: "NOT_FOUND" } });

function runOr404(id) {
  const r = runs.get(String(id));
  if (!r) throw notFound(`run ${id} not found`);
  return r;
}

function runView(r) {
  return { ...r, metrics: ({ every = 1 }) => r.metrics.filter((_, i) => i % every === 0 || i === r.metrics.length - 1), densityHistogram: () => r.densityHistogram };
}

function jobView(j) {
  return { ...j, children: j.children.map((id) => jobView(jobs.get(id))) };
}

function saveJob(j) {
  jobs.set(j.id, j);
  publish("job", { ...j, children: [] });
}

// ---------------------------------------------------------------- features
const SORT = { INDEX: (f) => f.index, DENSITY: (f) => f.density, MAX_ACTIVATION: (f) => f.maxActivation, LABEL_SCORE: (f) => f.labelScore ?? -1 };

function featuresQuery({ runId, first = 50, page = 1, sort = "INDEX", order = "ASC", filter }) {
  runOr404(runId);
  if (first > 500) throw bad(`first: at most 500 per page, got ${first}`, "first");
  const f = filter ?? {};
  const needle = f.labelContains?.toLowerCase();
  const rows = features.filter((r) => (!f.grades?.length || f.grades.includes(r.grade)) && (f.minDensity == null || r.density >= f.minDensity)
    && (f.maxDensity == null || r.density <= f.maxDensity) && (!needle || (r.label ?? "").toLowerCase().includes(needle)));
  rows.sort((a, b) => (SORT[sort](a) - SORT[sort](b)) * (order === "DESC" ? -1 : 1) || a.index - b.index);
  const pages = Math.max(1, Math.ceil(rows.length / first));
  const p = Math.min(Math.max(1, page ?? 1), pages);
  return { totalCount: rows.length, page: p, pageSize: first, nodes: rows.slice((p - 1) * first, p * first),
    pageInfo: { hasNextPage: p < pages, hasPreviousPage: p > 1, startCursor: null, endCursor: null } };
}

function search({ runId, query, first = 20 }) {
  runOr404(runId);
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = [];
  for (const f of features) {
    const label = (f.label ?? "").toLowerCase();
    if (terms.every((t) => label.includes(t))) hits.push({ ...f, score: 3 * terms.length, field: "LABEL", snippet: f.label });
  }
  return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, first);
}

function tokensOf(text) {
  const tokens = tokenize(text);
  if (tokens.length > 128) throw bad(`text: ${tokens.length} tokens, at most 128`, "text");
  return tokens;
}

// ---------------------------------------------------------------- jobs
const TRAIN_KEYS = new Set(["architecture", "d_sae", "k", "l1_coefficient", "l0_coefficient", "jumprelu_bandwidth", "matryoshka_widths", "lr", "n_steps", "batch_size", "seed"]);
const K_ARCHITECTURES = new Set(["topk", "batchtopk", "matryoshka_batchtopk"]);
const COLLECT_KEYS = new Set(["model", "hook", "corpus", "n_tokens", "context_length"]);
const MAX_CONTEXT = 8192;

function validateTrain(cfg, source) {
  for (const k of Object.keys(cfg)) if (!TRAIN_KEYS.has(k)) throw bad(`${source}: ${k}: unknown key`, `${source}.${k}`);
  if (K_ARCHITECTURES.has(cfg.architecture) && cfg.k == null) throw bad(`${source}: k: required when architecture is '${cfg.architecture}'`, `${source}.k`);
  if (!(cfg.d_sae >= 1)) throw bad(`${source}: d_sae: Input should be greater than or equal to 1`, `${source}.d_sae`);
  if (cfg.n_steps > 100000) throw bad(`${source}: n_steps: too many steps for the mock`, `${source}.n_steps`);
}

function newJob(kind, extra = {}) {
  const now = new Date().toISOString();
  return { id: String(nextId++), kind, status: "QUEUED", name: null, progress: 0, stage: "queued", message: "", error: null, attempts: 0,
    createdAt: now, startedAt: null, finishedAt: null, parentId: null, children: [], datasetId: null, runId: null, config: null, ...extra };
}

function simulatePipeline(parent, stages, nSteps) {
  const runId = `run-${parent.id}`;
  let stage = 0;
  let done = 0;
  const timer = setInterval(() => {
    const p = jobs.get(parent.id);
    if (p.status === "CANCELLED") return clearInterval(timer);
    const child = jobs.get(stages[stage]);
    const now = new Date().toISOString();
    if (child.status === "QUEUED") {
      saveJob({ ...child, status: "RUNNING", startedAt: now, stage: child.kind.toLowerCase(), message: "started", runId: child.kind === "COLLECT" ? null : runId });
      if (child.kind === "TRAIN" || child.kind === "IMPORT") {
        runs.set(runId, { ...makeRun(features), id: runId, name: p.name || `pipeline ${p.id}`, status: "RUNNING", createdAt: now, metrics: [], analysed: false, featureCount: 0, eval: null });
        saveJob({ ...jobs.get(p.id), runId });
      }
      return;
    }
    done += 1;
    const total = 8;
    const stageProgress = Math.min(1, done / total);
    if (child.kind === "TRAIN") {
      const step = Math.round(stageProgress * nSteps);
      const m = metricAt(runId, step);
      runs.get(runId).metrics.push(m);
      publish("metrics", m);
    }
    const finished = stageProgress >= 1;
    saveJob({ ...jobs.get(child.id), status: finished ? "SUCCEEDED" : "RUNNING", progress: stageProgress, message: `${done}/${total}`, finishedAt: finished ? now : null });
    const overall = (stage + stageProgress) / stages.length;
    const last = finished && stage === stages.length - 1;
    saveJob({ ...jobs.get(p.id), status: last ? "SUCCEEDED" : "RUNNING", startedAt: p.startedAt ?? now, progress: overall, stage: last ? "done" : child.kind.toLowerCase(),
      message: `${Math.round(stageProgress * 100)}%`, finishedAt: last ? now : null });
    if (finished) {
      if (child.kind === "TRAIN" || child.kind === "IMPORT") runs.set(runId, { ...runs.get(runId), status: "SUCCEEDED", eval: makeRun(features).eval });
      if (child.kind === "ANALYSE") runs.set(runId, { ...runs.get(runId), analysed: true, featureCount: features.length });
      stage += 1;
      done = 0;
      if (stage >= stages.length) clearInterval(timer);
    }
  }, TICK_MS);
}

function submitPipeline({ input }, ctx) {
  requireToken(ctx);
  const collect = input.collect ?? {};
  for (const k of Object.keys(collect)) if (!COLLECT_KEYS.has(k)) throw bad(`collect: ${k}: unknown key`, `collect.${k}`);
  if (!(collect.n_tokens >= 1)) throw bad("collect: n_tokens: Input should be greater than or equal to 1", "collect.n_tokens");
  if (collect.context_length > MAX_CONTEXT) throw bad(`collect: context_length: Input should be less than or equal to ${MAX_CONTEXT}`, "collect.context_length");
  validateTrain(input.train ?? {}, "train");
  const parent = newJob("PIPELINE", { name: input.name ?? null, config: input });
  const stages = ["COLLECT", "TRAIN", "ANALYSE"].map((kind) => newJob(kind, { parentId: parent.id }));
  parent.children = stages.map((s) => s.id);
  stages.forEach(saveJob);
  saveJob(parent);
  simulatePipeline(parent, parent.children, input.train.n_steps ?? 500);
  return jobView(parent);
}

/** The gateway's importSae: server paths only under the data roots (the mock's one root is /data). */
function importSae({ input }, ctx) {
  requireToken(ctx);
  const source = input.source ?? "";
  if (source.startsWith("/") && !source.startsWith("/data/"))
    throw bad(`source: '${source}' is outside the allowed data roots (/data)`, "source");
  if (!source && !(input.release && input.saeId)) throw bad("import: source: required (a folder or org/name[:subfolder]), or release + sae_id", "import.source");
  for (const k of ["model", "hook", "gguf_file", "output"])
    if (k in (input.collect ?? {})) throw bad(`import.collect.${k}: chosen by the imported SAE; leave it out`, `import.collect.${k}`);
  const parent = newJob("PIPELINE", { name: input.name ?? `import ${source || `${input.release}/${input.saeId}`}`, config: input });
  const stages = ["IMPORT", "COLLECT", "EVALUATE", "ANALYSE"].map((kind) => newJob(kind, { parentId: parent.id }));
  parent.children = stages.map((s) => s.id);
  stages.forEach(saveJob);
  saveJob(parent);
  simulatePipeline(parent, parent.children, 0);
  return jobView(parent);
}

function requireToken(ctx) {
  if (ctx.token !== TOKEN) throw new GraphQLError("this mutation needs the API token (Authorization: Bearer ...)", { extensions: { code: "UNAUTHENTICATED" } });
}

const root = {
  serverInfo: () => ({ version: "mock", mode: "embedded", authRequired: true, publicQueries: true, maxPromptTokens: 128, maxPageSize: 500 }),
  runs: () => [...runs.values()].map(runView),
  run: ({ id }) => (runs.has(id) ? runView(runs.get(id)) : null),
  datasets: () => [{ id: "ds-tiny", name: "tiny", model: "tiny-gpt2", hook: "blocks.1.hook_resid_pre", corpus: "tinystories", contextLength: 32, dIn: 64, nContexts: 100, nTokens: 3200, complete: true, config: {}, createdAt: "2025-01-01T00:00:00Z" }],
  jobs: ({ status, kind, first = 50 }) => [...jobs.values()].filter((j) => (!status || j.status === status) && (!kind || j.kind === kind)).reverse().slice(0, first).map(jobView),
  job: ({ id }) => (jobs.has(id) ? jobView(jobs.get(id)) : null),
  // every mock run on the one mock dataset, with its eval card as the Pareto point (no sweeps in the mock)
  compareRuns: ({ runIds }) => ({
    datasetId: "ds-tiny",
    points: [...runs.values()]
      .filter((r) => !runIds || runIds.includes(r.id))
      .map((r) => ({ runId: r.id, name: r.name, architecture: r.architecture, dSae: r.dSae, k: r.config?.k ?? null, sparsityCoefficient: r.config?.l1_coefficient ?? null, l0: r.eval?.l0 ?? null, explainedVariance: r.eval?.explainedVariance ?? null, ceLossRecovered: r.eval?.ceLossRecovered ?? null, deadFraction: r.eval?.deadFraction ?? null, denseFraction: r.eval?.denseFraction ?? null, evalTokens: 2048, evaluated: !!r.eval, onEvFront: true, onCeFront: true, run: runView(r) })),
  }),
  features: featuresQuery,
  feature: ({ runId, index }) => {
    runOr404(runId);
    return features[index] ? featureDetail(features[index], features) : null;
  },
  search,
  tokenFeatures: ({ runId }) => (runOr404(runId), features.slice(0, 5).map((f) => ({ index: f.index, label: f.label, score: 1 }))),
  similarFeatures: ({ runId, index }) => (runOr404(runId), featureDetail(features[index], features).decoderNeighbours),
  analysePrompt: ({ runId, text, topK = 5 }) => {
    runOr404(runId);
    return { runId, tokens: tokensOf(text).map((token, position) => {
      const acts = features.map((f) => ({ index: f.index, label: f.label, activation: activation(f.index, token) })).filter((a) => a.activation > 0);
      acts.sort((a, b) => b.activation - a.activation);
      return { position, token, l0: acts.length, maxActivation: acts[0]?.activation ?? 0, features: acts.slice(0, topK) };
    }) };
  },
  // steering and attribution: fake but shaped like the gateway's answers (the steered side differs on every step
  // unless every intervention is a zero steer)
  steer: ({ runId, prompt, interventions, maxNewTokens = 16 }) => {
    runOr404(runId);
    const effective = interventions.some((iv) => iv.kind !== "STEER" || iv.value !== 0);
    const words = [" the", " cat", " sat", " on", " a", " mat"];
    const top = (t) => [{ token: t, probability: 0.6 }, { token: " and", probability: 0.2 }];
    const steps = Array.from({ length: maxNewTokens }, (_, i) => {
      const base = words[i % words.length];
      const steered = effective ? ` f${interventions[0].feature}` : base;
      return { position: tokensOf(prompt).length + i, kl: steered === base ? 0 : 0.8, changed: steered !== base,
        baseline: { token: base, probability: 0.6 }, steered: { token: steered, probability: 0.6 },
        baselineTop: top(base), steeredTop: top(steered) };
    });
    return { runId, promptTokens: tokensOf(prompt), baselineText: steps.map((s) => s.baseline.token).join(""),
      steeredText: steps.map((s) => s.steered.token).join(""), steps };
  },
  attribute: ({ runId, prompt, target }) => {
    runOr404(runId);
    const toks = tokensOf(prompt);
    const f = features[0];
    const score = (sign, p) => ({ index: f.index, label: f.label, activation: 1 + p, attribution: sign * (1 + p) / 10 });
    return { runId, position: toks.length - 1, target: target ?? " the", targetId: 0, logit: 2, probability: 0.3,
      tokens: toks.map((token, position) => ({ position, token, positive: [score(1, position)], negative: [score(-1, 0)] })),
      check: { position: toks.length - 1, predictedChange: -0.1 * toks.length, actualChange: -0.08 * toks.length, agrees: true,
        feature: score(1, toks.length - 1) } };
  },
  featureActivations: ({ runId, index, text }) => {
    runOr404(runId);
    const tokens = tokensOf(text);
    const activations = tokens.map((t) => activation(index, t));
    return { runId, index, tokens, activations, maxActivation: Math.max(0, ...activations) };
  },
  submitPipeline,
  importSae,
  submitTraining: ({ datasetId, config, name }, ctx) => {
    requireToken(ctx);
    validateTrain(config, "config");
    const parent = newJob("TRAIN", { name: name ?? null, datasetId, config });
    parent.children = [];
    saveJob(parent);
    return jobView(parent);
  },
  submitAnalysis: ({ runId }, ctx) => (requireToken(ctx), runOr404(runId), jobView((() => { const j = newJob("ANALYSE", { runId }); saveJob(j); return j; })())),
  cancelJob: ({ id }, ctx) => {
    requireToken(ctx);
    const j = jobs.get(id);
    if (!j) throw notFound(`job ${id} not found`);
    saveJob({ ...j, status: "CANCELLED", message: "cancelled", finishedAt: new Date().toISOString() });
    return jobView(jobs.get(id));
  },
  relabelFeature: ({ runId, index, label }, ctx) => {
    requireToken(ctx);
    runOr404(runId);
    if (!features[index]) throw notFound(`feature ${index} not found in run ${runId}`);
    if (!label.trim()) throw bad("label: must not be empty", "label");
    features[index] = { ...features[index], label: label.trim(), labelSource: "human" };
    return featureDetail(features[index], features);
  },
  jobUpdates: ({ jobId }) => {
    // the real gateway: current state first, then changes; a pipeline id follows its stages too
    const it = iterate("job", (j) => !jobId || j.id === jobId || j.parentId === jobId, (j) => ({ jobUpdates: jobView({ ...j, children: [] }) }));
    if (jobId && jobs.has(jobId)) publish("job", jobs.get(jobId));
    return it;
  },
  trainingMetrics: ({ runId }) => iterate("metrics", (m) => m.runId === runId, (m) => ({ trainingMetrics: m })),
};

// ---------------------------------------------------------------- HTTP
const MIME = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml" };

async function graphqlHttp(req, res) {
  let body = "";
  for await (const chunk of req) body += chunk;
  const { query, variables, operationName } = JSON.parse(body || "{}");
  const token = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
  let result;
  try {
    const doc = parse(query);
    const errors = validate(schema, doc);
    result = errors.length ? { errors } : await execute({ schema, document: doc, rootValue: root, variableValues: variables, operationName, contextValue: { token } });
  } catch (err) {
    result = { errors: [{ message: err.message, extensions: { code: "BAD_INPUT" } }] };
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(result));
}

function serveFile(req, res) {
  const url = new URL(req.url, "http://x");
  let path = normalize(join(DIR, decodeURIComponent(url.pathname)));
  if (!path.startsWith(normalize(DIR))) return res.writeHead(403).end();
  if (!existsSync(path) || statSync(path).isDirectory()) {
    if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/data/")) return res.writeHead(404).end("not found");
    path = join(DIR, "index.html"); // SPA fallback for client routes
  }
  res.writeHead(200, { "Content-Type": MIME[extname(path)] ?? "application/octet-stream" });
  res.end(readFileSync(path));
}

const server = createServer((req, res) => {
  if (req.url.startsWith("/graphql") && req.method === "POST") return void graphqlHttp(req, res);
  serveFile(req, res);
});
const wss = new WebSocketServer({ server, path: "/graphql" });
serveGraphqlWs({ schema, roots: { query: root, mutation: root, subscription: root }, context: (ctx) => ({ token: String(ctx.connectionParams?.Authorization ?? "").replace(/^Bearer\s+/i, "") }) }, wss);
server.listen(PORT, "127.0.0.1", () => console.log(`mock gateway on http://127.0.0.1:${PORT} (serving ${DIR})`));
