"""The demo's speed levers, each alone: the LM forward in float32 vs under bfloat16 autocast (tokens/s and how far the
activations move), and the default preset's SAE training step (tokens/s). One JSON line per measurement.

Runs the packaged SmolLM2-135M to ``blocks.15.hook_resid_pre`` (the offline demo's hook) on real TinyStories contexts
(``../shared/data/tinystories``), batch 16 x 128 tokens as the demo collects; the SAE step runs on those activations.
Best of ``--repeats`` timed calls after one warm-up call, so load spikes on a shared machine weigh less.

    flock /tmp/saelab-heavy.lock .venv/bin/python -m bench.demo_levers --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from cli.presets import load_preset
from cli.sources import SMOLLM2_HOOK, DemoSources
from services.collector.corpus import open_corpus, pack_contexts
from services.trainer.train import SAETrainer
from shared.hub import LOCAL_CORPUS
from shared.lm import load_lm
from shared.sae import SAEConfig, create_sae

BATCH, CONTEXT = 16, 128


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def contexts(lm: object, n: int) -> torch.Tensor:
    corpus = open_corpus(str(LOCAL_CORPUS), "train", "text")
    packed = pack_contexts(corpus.documents(0), lm.tokenizer, CONTEXT, lm.bos_token_id, lm.eos_token_id)  # type: ignore[attr-defined]
    return torch.from_numpy(np.stack([next(packed) for _ in range(n)])).long()


def emit(row: dict[str, object]) -> None:
    row |= {"load_avg_1min": round(os.getloadavg()[0], 2), "threads": torch.get_num_threads()}
    print(json.dumps(row), flush=True)


def lm_forward(repeats: int) -> torch.Tensor:
    """float32 vs bfloat16 autocast forward to the demo's hook; returns the float32 activations."""
    lm = load_lm("smollm2")
    ids = contexts(lm, BATCH)
    ref = lm.activations(ids, SMOLLM2_HOOK)
    fp32 = best_of(lambda: lm.activations(ids, SMOLLM2_HOOK), repeats)

    def autocast() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return lm.activations(ids, SMOLLM2_HOOK)

    bf16 = best_of(autocast, repeats)
    rel = ((autocast().float() - ref).norm(dim=-1) / ref.norm(dim=-1))[:, 1:]  # BOS left out, as in training
    n = BATCH * CONTEXT
    emit({"lever": "collect: LM forward", "float32_tok_s": round(n / fp32), "bf16_autocast_tok_s": round(n / bf16),
          "speedup": round(fp32 / bf16, 2), "activation_rel_error_mean": round(float(rel.mean()), 4),
          "activation_rel_error_p99": round(float(rel.flatten().quantile(0.99)), 4)})  # fmt: skip
    return ref


def sae_step(acts: torch.Tensor, repeats: int) -> None:
    """One training step of the default preset's SAE on real activations (tokens/s)."""
    sources = DemoSources(model="smollm2", hook=SMOLLM2_HOOK, corpus=str(LOCAL_CORPUS))
    cfg = load_preset("default", sources, Path("/nonexistent")).train
    x = acts[:, 1:].reshape(-1, acts.shape[-1])
    x = x[torch.randint(len(x), (cfg.batch_size,), generator=torch.Generator().manual_seed(0))]
    sae = create_sae(SAEConfig(architecture=cfg.architecture, d_in=x.shape[1], d_sae=cfg.d_sae, k=cfg.k))
    trainer = SAETrainer(sae, cfg, iter(lambda: x, None), device="cpu")
    trainer.initialise(x)
    seconds = best_of(
        lambda: trainer._train_step(x * trainer.input_scale), repeats
    )  # one optimiser step, without logging/tracking
    emit({"lever": "train: SAE step", "architecture": cfg.architecture, "d_sae": cfg.d_sae, "k": cfg.k,
          "batch": cfg.batch_size, "tok_s": round(cfg.batch_size / seconds)})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    acts = lm_forward(args.repeats)
    sae_step(acts, args.repeats)


if __name__ == "__main__":
    main()
