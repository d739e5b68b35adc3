"""Task ``saelab.explain``: explain features of an analysed run with an LLM, score each by detection and fuzzing.

Thin: check the endpoint settings first (a job without an explainer fails at once, saying which variable to set),
read each feature's stored windows and split them by the analyser's held-out rule, scan held-out contexts of the
run's activation set for windows on which each feature stays silent (detection's negatives), then explain and score
feature by feature (``shared.explain.explainer``), writing each row as it is done and reporting progress per feature.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import torch

from services.analyser.analyse import encode, open_activations
from services.analyser.celery_app import app
from services.analyser.stream import iter_batches
from shared.config import AnalyseConfig
from shared.db.repositories.llm_explanations import feature_windows, live_features, save_llm_explanation
from shared.db.repositories.runs import get_run
from shared.db.session import session_scope
from shared.devices import resolve_device
from shared.explain.client import ChatClient
from shared.explain.config import METHOD, ExplainConfig
from shared.explain.explainer import FeatureContexts, explain_feature, split_windows
from shared.explain.prompts import Example
from shared.explain.scoring import UNIT
from shared.jobs.celery_app import run_delivery
from shared.jobs.contracts import EXPLAIN
from shared.jobs.lifecycle import JobContext
from shared.lm import load_lm
from shared.paths import local_source
from shared.sae import load_sae
from shared.settings import Settings
from shared.store import fetch_dataset, fetch_run, get_store

log = logging.getLogger(__name__)


def negative_windows(
    silent: np.ndarray, tokens: list[list[str]], width: int, n: int, rng: random.Random
) -> list[Example]:
    """Up to ``n`` windows of ``width`` tokens on which a feature is silent, from distinct contexts at random.

    ``silent[c, t]``: the feature does not fire at token ``t`` of scanned context ``c``; ``tokens[c]`` its text."""
    order = list(range(silent.shape[0]))
    rng.shuffle(order)
    out: list[Example] = []
    for c in order:
        row = silent[c]
        starts = [s for s in range(0, len(row) - width + 1) if row[s : s + width].all()]
        if starts:
            s = rng.choice(starts)
            out.append(Example(tokens[c][s : s + width], [0.0] * width))
            if len(out) == n:
                break
    return out


@torch.inference_mode()
def scan_silence(
    run_id: str, features: list[int], cfg: ExplainConfig, heldout_every: int, settings: Settings
) -> tuple[np.ndarray, list[list[str]]]:
    """For held-out contexts (at most ``cfg.scan_contexts``): ``silent[f, c, t]`` per selected feature, and the
    contexts' token strings."""
    store = get_store(settings)
    with session_scope() as s:
        dataset_id = get_run(s, run_id).dataset_id
    fetch_dataset(store, dataset_id)
    run_dir = fetch_run(store, run_id)
    device = resolve_device(cfg.device)
    sae = load_sae(run_dir, device=device).eval()
    dataset = open_activations(run_dir, sae)
    model = sae.cfg.model_name or str(dataset.meta.model)
    lm = load_lm(
        local_source(model, field="model") or model, sae.cfg.model_gguf_file or dataset.meta.gguf_file
    )
    cols = torch.tensor(features, device=device)
    silent, ids = [], []
    per_batch = max(1, 4096 // dataset.context_length)
    for batch in iter_batches(dataset, per_batch):
        held = [i for i in range(len(batch.acts)) if (batch.start + i) % heldout_every == heldout_every - 1]
        if not held:
            continue
        x = torch.from_numpy(batch.acts[held]).to(device)
        acts, _ = encode(sae, x)
        silent.append((acts.index_select(-1, cols) <= 0).permute(2, 0, 1).cpu().numpy())
        ids.extend(batch.tokens[held].tolist())
        if len(ids) >= cfg.scan_contexts:
            break
    if not silent:
        return np.zeros((len(features), 0, dataset.context_length), dtype=bool), []
    table = np.concatenate(silent, axis=1)[:, : cfg.scan_contexts]
    texts = [lm.token_strings(row) for row in ids[: cfg.scan_contexts]]
    return table, texts


def run_explain(ctx: JobContext) -> str:
    """Body of ``saelab.explain``."""
    run_id = ctx.payload.run_id
    cfg = ExplainConfig.model_validate(ctx.config)
    client = ChatClient.from_settings(
        ctx.settings, max_tokens=cfg.explain_max_tokens
    )  # NotConfigured names the variables
    with session_scope() as s:
        run = get_run(s, run_id)
        analysed = AnalyseConfig.model_validate(run.analyse_config or {})
        features = live_features(s, run_id, cfg.features)
    if not features:
        return "nothing to explain: none of the selected features fired in the analysis"
    width = analysed.window_left + 1 + analysed.window_right
    ctx.stage("scan", f"finding held-out contexts on which {len(features)} features stay silent")
    silent, texts = scan_silence(run_id, features, cfg, analysed.heldout_every, ctx.settings)
    ctx.stage("explain", f"explaining {len(features)} features with {client.model}")
    calls, done = 0, []
    for i, index in enumerate(features):
        with session_scope() as s:
            windows = feature_windows(s, run_id, index)
        train, test = split_windows(
            [(w.context, Example(w.tokens, w.activations)) for w in windows], analysed.heldout_every
        )
        if not train:  # explaining from held-out windows would score the explainer on what it saw
            ctx.progress(i + 1, len(features), f"feature {index}: skipped, every stored example is held out")
            continue
        rng = random.Random(cfg.seed * 7919 + index)
        negatives = negative_windows(silent[i], texts, width, cfg.n_test, rng)
        result = explain_feature(client, FeatureContexts(index, train, test, negatives), cfg)
        calls += result.calls
        detection = next(s for s in result.scores if s.name == "detection")
        with session_scope() as s:
            save_llm_explanation(
                s,
                run_id,
                index,
                text=result.text,
                description=result.description,
                method=METHOD,
                model=client.model,
                scores=[sc.model_dump(mode="json") for sc in result.scores],
                sample_size=detection.n,
                sample_unit=UNIT,
            )
        done.append(result)
        ctx.progress(i + 1, len(features), f"feature {index}: {result.description}")
    scored = [s.value for r in done for s in r.scores if s.name == "detection" and s.value is not None]
    mean = f"; mean detection {sum(scored) / len(scored):.2f} over {len(scored)}" if scored else ""
    skipped = (
        f"; {len(features) - len(done)} skipped (no example outside the held-out contexts)"
        if len(done) < len(features)
        else ""
    )
    return f"explained {len(done)} features with {client.model} in {calls} LLM calls{mean}{skipped}"


@app.task(name=EXPLAIN, bind=True)
def explain_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.explain``."""
    return run_delivery(self, EXPLAIN, payload, run_explain)
