"""Time SAEDashboard building feature dashboards for our SAE over our activations; print one JSON result line.

Runs inside .bench/dashboard (``python -m bench.peers.dashboard_analyse``). Inputs (written by
bench/analysis_throughput.py into one folder): ``tokens.npy`` [n_ctx, T], ``acts.npy`` [n_ctx, T, d_in] (the very
activations our analyser reads), ``W_U.npy`` [d_in, d_vocab] (the LM's unembedding with its final-norm weight folded
in, as TransformerLens folds it), ``sae.safetensors`` (our SAE: W_enc, b_enc, W_dec, b_dec on raw activations) and
``spec.json``.

SAEDashboard needs a TransformerLens model; instead of running one, its own activation cache
(``cache_dir/model_activations_{i}.pt``, one file per token minibatch) is filled with our activations before the
clock starts, so its model forward pass is skipped entirely and the stand-in model only supplies ``W_U`` (a 1-layer
HookedTransformer with the LM's d_model and vocabulary). This favours SAEDashboard: its time below excludes the LM.
Timed: ``SaeVisRunner(cfg).run(sae, model, tokens)`` (all dashboard data; no HTML writing), for each requested number
of features (spread evenly over the dictionary), after one untimed warm-up run on a few features.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import sae_dashboard
import torch
from sae_dashboard.sae_vis_data import SaeVisConfig
from sae_dashboard.sae_vis_runner import SaeVisRunner
from sae_lens.saes.standard_sae import StandardSAE, StandardSAEConfig
from sae_lens.saes.topk_sae import TopKSAE, TopKSAEConfig
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

HOOK = "blocks.0.hook_resid_pre"


def build_sae(spec: dict[str, Any], weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    """SAELens inference SAE with our weights: ``standard`` for relu, ``topk`` for topk."""
    d_in, d_sae = weights["W_enc"].shape
    common = {"d_in": d_in, "d_sae": d_sae, "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": True}
    if spec["architecture"] == "relu":
        sae: torch.nn.Module = StandardSAE(StandardSAEConfig(**common))
    elif spec["architecture"] == "topk":
        # SAEDashboard folds decoder norms into the encoder, which SAELens allows for TopK only with
        # rescale_acts_by_decoder_norm. Our TopK decoder rows share one norm (unit norm / the folded input scale), so
        # that rescaling multiplies every pre-activation by the same constant: same top-k, same firings.
        norms = weights["W_dec"].norm(dim=1)
        if not torch.allclose(norms, norms.mean().expand_as(norms), rtol=1e-4):
            raise ValueError(
                "topk SAE: decoder rows differ in norm, SAELens's rescaled TopK would pick other latents"
            )
        sae = TopKSAE(TopKSAEConfig(k=spec["k"], rescale_acts_by_decoder_norm=True, **common))
    else:
        raise ValueError(f"architecture: {spec['architecture']!r} is not benchmarked against SAEDashboard")
    sae.load_state_dict({k: weights[k] for k in ("W_enc", "b_enc", "W_dec", "b_dec")}, strict=False)
    return sae.eval()


def stand_in_model(W_U: torch.Tensor, n_ctx: int) -> HookedTransformer:
    """A 1-layer TransformerLens model of the LM's width and vocabulary whose W_U is the LM's (never run)."""
    d_model, d_vocab = W_U.shape
    cfg = HookedTransformerConfig(
        n_layers=1,
        d_model=d_model,
        n_ctx=n_ctx,
        d_head=d_model // 8,
        n_heads=8,
        d_mlp=4 * d_model,
        d_vocab=d_vocab,
        act_fn="gelu",
        normalization_type="LN",
        device="cpu",
    )
    model = HookedTransformer(cfg)
    with torch.no_grad():
        model.W_U.copy_(W_U)
    return model.eval()


def fill_cache(cache: Path, acts: np.ndarray, minibatch: int) -> None:
    """SAEDashboard's own activation cache: ``model_activations_{i}.pt`` = {hook: acts of token minibatch i}."""
    cache.mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, len(acts), minibatch)):
        chunk = torch.from_numpy(np.ascontiguousarray(acts[start : start + minibatch], dtype=np.float32))
        torch.save({HOOK: chunk}, cache / f"model_activations_{i}.pt")


def time_run(
    spec: dict[str, Any], folder: Path, model: HookedTransformer, tokens: torch.Tensor, n_features: int
) -> float:
    """Seconds for SaeVisRunner.run over ``n_features`` features spread evenly over the dictionary."""
    sae = build_sae(
        spec, load_file(str(folder / "sae.safetensors"))
    )  # fresh: run() folds W_dec norms in place
    d_sae = sae.cfg.d_sae
    features = np.unique(np.linspace(0, d_sae - 1, n_features).round().astype(int)).tolist()
    cfg = SaeVisConfig(
        hook_point=HOOK,
        features=features,
        minibatch_size_features=spec["minibatch_size_features"],
        minibatch_size_tokens=spec["minibatch_size_tokens"],
        device="cpu",
        dtype="float32",
        ignore_positions=[0] if spec["prepend_bos"] else [],
        cache_dir=folder / "cache",
        verbose=False,
    )
    start = time.perf_counter()
    data = SaeVisRunner(cfg).run(encoder=sae, model=model, tokens=tokens)
    seconds = time.perf_counter() - start
    if len(data.feature_data_dict) != len(features):
        raise RuntimeError(
            f"SAEDashboard built {len(data.feature_data_dict)} dashboards, expected {len(features)}"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    folder: Path = args.folder
    spec = json.loads((folder / "spec.json").read_text())
    torch.manual_seed(0)
    tokens_np = np.load(folder / "tokens.npy")
    acts = np.load(folder / "acts.npy", mmap_mode="r")
    fill_cache(folder / "cache", acts, spec["minibatch_size_tokens"])
    model = stand_in_model(torch.from_numpy(np.load(folder / "W_U.npy")), tokens_np.shape[1])
    tokens = torch.from_numpy(tokens_np.astype(np.int64))
    time_run(
        spec, folder, model, tokens, spec["warmup_features"]
    )  # first-call costs (lazy imports, file cache)
    timings = {str(n): time_run(spec, folder, model, tokens, n) for n in spec["feature_counts"]}
    result = {
        "seconds_by_features": timings,
        "n_tokens": int(tokens.numel()),
        "sae_dashboard": version("sae-dashboard"),
        "sae_lens": version("sae-lens"),
        "transformer_lens": version("transformer-lens"),
        "torch": torch.__version__,
        "module": sae_dashboard.__name__,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
