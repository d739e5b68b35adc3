// Deterministic fake saelab data for the local mock gateway and the static-export fixture (never for real e2e).

const WORDS = ["Once", " upon", " a", " time", " there", " was", " a", " little", " cat", " named", " Tom", ".",
  " He", " liked", " to", " play", " in", " the", " park", " with", " his", " friend", ",", " the", " dog", ".",
  " One", " day", " they", " found", " a", " big", " red", " ball", "!", "\n", " \"", "Look", "!\"", " said", " Lily"];
const LABELS = ["story openings", "cats", "dialogue comma", "end of sentence", "said", "animals", "colours",
  "time words", "names", "park and play", "quotes", "friendship"];
const GRADES = ["high", "medium", "low"];

export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export const RUN_ID = "run-tiny";
export const D_SAE = 320;

export function makeFeatures() {
  const r = rng(7);
  return Array.from({ length: D_SAE }, (_, index) => {
    const dead = index % 23 === 5;
    const density = dead ? 0 : 10 ** (-5 + 4.5 * r());
    const maxActivation = dead ? 0 : 0.5 + 9 * r();
    return {
      runId: RUN_ID,
      index,
      label: dead ? null : `${LABELS[index % LABELS.length]} ${index}`,
      labelSource: dead ? null : "auto",
      grade: dead ? "dead" : GRADES[index % 3],
      labelScore: dead ? null : Math.round(r() * 100) / 100,
      density,
      log10Density: density > 0 ? Math.log10(density) : null,
      meanActivation: maxActivation * 0.3,
      maxActivation,
      nActive: Math.round(density * 50000),
      dead,
      dense: density > 0.1,
    };
  });
}

function example(r, max, quantile = null) {
  const len = 14;
  const start = Math.floor(r() * (WORDS.length - len));
  const tokens = WORDS.slice(start, start + len);
  const maxPosition = 10;
  const activations = tokens.map((_, i) => (i === maxPosition ? max : r() < 0.3 ? r() * max * 0.6 : 0));
  return { tokens, activations, maxPosition, maxActivation: max, quantile };
}

export function featureDetail(summary, features) {
  const r = rng(1000 + summary.index);
  const m = summary.maxActivation;
  const edges = Array.from({ length: 17 }, (_, i) => (m * i) / 16);
  const counts = Array.from({ length: 16 }, (_, i) => Math.round(400 * Math.exp(-i / 3) * (0.7 + 0.6 * r())));
  const ref = (i) => ({ index: features[i].index, label: features[i].label, score: Math.round((0.9 - 0.05 * (i % 10)) * 1000) / 1000 });
  const neighbours = (offset) => Array.from({ length: 6 }, (_, k) => ref((summary.index + offset + k * 7) % features.length));
  return {
    ...summary,
    labelDescription: summary.label ? `fires on tokens about ${summary.label.replace(/ \d+$/, "")}` : null,
    explanations: summary.label
      ? [
          {
            id: String(summary.index + 1),
            text: summary.label,
            description: `Token rule: fires on tokens about ${summary.label.replace(/ \d+$/, "")}.`,
            method: "offline token-list labeller",
            model: null,
            author: "analyser",
            editable: false,
            sampleSize: 40,
            sampleUnit: "held-out firings",
            scores: [{ name: "F1", value: summary.labelScore, ciLow: null, ciHigh: null, n: 40, unit: "held-out firings", reason: null, help: "F1 of the token rule on held-out contexts." }],
          },
        ]
      : [],
    topTokens: m > 0 ? WORDS.slice(summary.index % 20, (summary.index % 20) + 4).map((token, k) => ({ token, value: 0.4 / (k + 1) })) : [],
    histogram: { edges, counts, zeroFraction: 1 - summary.density },
    topExamples: m > 0 ? Array.from({ length: 8 }, (_, k) => example(r, m * (1 - k * 0.06))) : [],
    quantileSamples: m > 0 ? [0, 1, 2].flatMap((q) => [example(r, m * (0.2 + 0.3 * q), q), example(r, m * (0.25 + 0.3 * q), q)]) : [],
    logitLens: {
      top: WORDS.slice(0, 6).map((token, k) => ({ token, value: 2 - k * 0.2 })),
      bottom: WORDS.slice(10, 16).map((token, k) => ({ token, value: -2 + k * 0.2 })),
    },
    decoderNeighbours: neighbours(1),
    coactivationNeighbours: neighbours(3),
  };
}

export function makeMetrics(runId, steps, every = 25) {
  const out = [];
  for (let step = 0; step <= steps; step += every) out.push(metricAt(runId, step));
  return out;
}

export function metricAt(runId, step) {
  const t = step / 100;
  return {
    runId, step,
    loss: 0.2 + 3 * Math.exp(-t), mse: 0.1 + 2 * Math.exp(-t), l1: 0.05, l0: 8 + 40 * Math.exp(-t),
    explainedVariance: 0.95 - 0.9 * Math.exp(-t), deadFraction: 0.02 + 0.1 * Math.exp(-t / 2), denseFraction: 0.01,
    lr: 4e-4, tokensPerS: 50000, values: {},
  };
}

export function densityHistogram(features) {
  const alive = features.filter((f) => f.density > 0).map((f) => Math.log10(f.density));
  const edges = Array.from({ length: 21 }, (_, i) => -6 + (6 * i) / 20);
  const counts = edges.slice(0, -1).map((lo, i) => alive.filter((v) => v >= lo && v < edges[i + 1]).length);
  return { edges, counts, zeroFraction: 1 - alive.length / features.length };
}

export function makeRun(features) {
  return {
    id: RUN_ID, name: "tiny-gpt2 relu", status: "SUCCEEDED", createdAt: "2025-01-02T10:00:00Z", datasetId: "ds-tiny",
    model: "tiny-gpt2", hook: "blocks.1.hook_resid_pre", architecture: "relu", dIn: 64, dSae: D_SAE,
    config: { architecture: "relu", d_sae: D_SAE, l1_coefficient: 5, lr: 0.0004, n_steps: 500, batch_size: 1024 },
    stepsDone: 500, summary: null,
    eval: { values: {}, explainedVariance: 0.91, l0: 12.3, mse: 0.08, ceLossRecovered: 0.87, ceLossClean: 3.1, ceLossReconstructed: 3.4, ceLossZeroAblated: 5.2, klDivergence: 0.21, deadFraction: 0.04, denseFraction: 0.01 },
    metrics: makeMetrics(RUN_ID, 500),
    analysed: true, featureCount: features.length, grades: ["high", "medium", "low", "dead"],
    densityHistogram: densityHistogram(features),
  };
}

/** Split like a BPE tokenizer would, roughly: words with their leading space, punctuation alone. */
export function tokenize(text) {
  return text.match(/\s*[A-Za-z0-9']+|\s*[^\sA-Za-z0-9']|\s+$/g) ?? [];
}

export function activation(index, token) {
  let h = index * 31 + 7;
  for (const c of token) h = (h * 33 + c.charCodeAt(0)) >>> 0;
  return h % 5 === 0 ? ((h % 1000) / 100) : 0;
}
