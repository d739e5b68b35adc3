"""Analysis throughput: ``analyse_run`` vs the bare SAE encode over the same tokens, and vs SAEDashboard.

Data: SmolLM2-135M layer-15 activations of TinyStories collected by our collector (``--tokens``, default 409,600 =
3,200 contexts of 128; cached in bench/out/data/), and an SAE trained on them once by our
``services.trainer.run.train`` (TopK k=32 d_sae 6144 by default, ``--architecture relu`` for a ReLU one; cached in
bench/out/analysis/). ``--tokens 51200`` reuses the training bench's data.

- ours, full: wall time of one ``analyse_run`` call over every token: loading the SAE and the LM (for the logit
  lens and token strings), the streaming pass, neighbours, logit lens, labels and their scores, token index,
  writing ``results/``.
- ours, pass: the analyser's streaming pass alone (``run_pass``: shard reading, encoding, every per-token
  statistic), i.e. the full analysis minus its fixed costs.
- bare encode: ``sae.encode`` over the same tokens in the analyser's batch size, activations already in RAM (the
  strict floor); also reported with the HDF5 shard reading included.
- SAEDashboard: ``SaeVisRunner.run`` for the same SAE and tokens, in its own venv (bench/peers/dashboard_analyse.py;
  its activation cache is pre-filled with our activations so it runs no model: like for like, both start from
  stored activations). Timed on subsets of features spread over the dictionary (after an untimed warm-up) and
  **extrapolated linearly** to all features (least-squares ``t = b * n_features`` through the timed subsets: it
  runs in equal batches of 256 features); the JSON line says which subsets were timed and how long each took.
- SAEDashboard at its defaults (``cache_dir=None``) also re-runs the LM to the hook over all tokens for every batch
  of 256 features: that line is an **estimate** (measured time above + feature batches x one measured forward of
  our HF LM over the tokens), labelled ``"estimated": true``.
Goals (issue 3): ours >= 0.6 x bare encode, ours >= 20 x SAEDashboard for all features.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.peers.common import machine
from bench.records import emit
from bench.train_throughput import DATA_TOKENS, collect_smollm2, default_corpus

ANALYSIS_TOKENS = 8 * DATA_TOKENS

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
DASHBOARD_PY = REPO / ".bench" / "dashboard" / "bin" / "python"

DASHBOARD_FEATURE_BATCH, DASHBOARD_TOKEN_BATCH = 256, 64  # SaeVisConfig's defaults
DASHBOARD = "SAEDashboard SaeVisRunner.run, model forward skipped (its activation cache pre-filled)"

DASHBOARD_DEFAULT = (
    "estimate, not a run: the measured SAEDashboard time plus one LM forward to the hook over all tokens per batch "
    "of 256 features, which it does with its default cache_dir=None (our HF forward time stands in for "
    "TransformerLens's)"
)

log = logging.getLogger("bench.analysis")


def trained_run(dataset: Path, architecture: str, d_sae: int, steps: int) -> Path:
    """An SAE trained by our trainer on ``dataset`` (cached: reused when its weights exist).

    topk: k=32 (a fixed L0 of 32). relu: the medium preset's plain L1 (coefficient 5, unit-norm decoder rows)."""
    from services.trainer.run import train
    from shared.config import TrainConfig

    run = OUT / "analysis" / f"run-{architecture}-{d_sae}-{steps}-{dataset.name}"
    if (run / "sae.safetensors").is_file() and (run / "cfg.json").is_file():
        return run
    arch: dict = (
        {"k": 32} if architecture == "topk" else {"l1_coefficient": 5.0, "scale_l1_by_decoder_norm": False}
    )
    cfg = TrainConfig(
        activations=str(dataset),
        output=str(run),
        architecture=architecture,
        d_sae=d_sae,
        lr=4e-4,
        batch_size=1024,
        n_steps=steps,
        eval_fraction=0.0,
        log_every=50,
        device="cpu",
        **arch,
    )
    log.info("training the %s SAE to analyse (%d steps, once) into %s", architecture, steps, run)
    return train(cfg)


def warm_imports(run: Path) -> None:
    """Load the run's LM once, untimed: a long-lived analyser worker has transformers' modules imported (~5 s
    on this machine, cold); the timed ``analyse_run`` still loads the LM itself."""
    from shared.lm import load_lm
    from shared.sae import load_sae

    cfg = load_sae(run).cfg
    load_lm(str(cfg.model_name), cfg.model_gguf_file)


def analyse(run: Path, profile: bool) -> float:
    """Seconds for one full ``analyse_run`` (previous results replaced); a cProfile summary on stderr if asked."""
    from services.analyser.analyse import analyse_run
    from shared.config import AnalyseConfig

    cfg = AnalyseConfig(run=str(run), device="cpu")
    warm_imports(run)
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    analyse_run(cfg)
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        print(text.getvalue(), file=sys.stderr)
    return seconds


def analysis_pass(run: Path) -> float:
    """Seconds for the analyser's streaming pass alone (``run_pass``: shard reading, encoding, every per-token
    statistic), i.e. the full analysis minus its fixed costs (loading the LM, logit lens, neighbours, records)."""
    from services.analyser.analyse import open_activations, run_pass
    from shared.config import AnalyseConfig
    from shared.sae import load_sae

    sae = load_sae(run).eval()
    dataset = open_activations(run, sae)
    start = time.perf_counter()
    run_pass(sae, dataset, AnalyseConfig(run=str(run), device="cpu"), torch.device("cpu"))
    return time.perf_counter() - start


def lm_seconds(dataset: Path, tokens: np.ndarray, contexts_per_batch: int) -> tuple[float, float]:
    """(seconds to load the dataset's LM, seconds for one forward pass to the hook over ``tokens``).

    Loading is a fixed cost inside ``analyse_run`` (it needs the unembedding and the tokenizer); the forward is what
    SAEDashboard, left at its defaults (no activation cache), repeats for every batch of 256 features."""
    from shared.lm import load_lm
    from shared.shards import ActivationSet

    meta = ActivationSet.open(dataset).meta
    start = time.perf_counter()
    lm = load_lm(str(meta.model), meta.gguf_file)
    loaded = time.perf_counter()
    ids = torch.from_numpy(tokens).long()
    for i in range(0, len(ids), contexts_per_batch):
        lm.activations(ids[i : i + contexts_per_batch], str(meta.hook))
    return loaded - start, time.perf_counter() - loaded


def all_activations(dataset: Path) -> tuple[np.ndarray, np.ndarray]:
    """(acts [n, T, d] float32, tokens [n, T]) of every context of ``dataset``."""
    from shared.shards import ActivationSet

    aset = ActivationSet.open(dataset)
    parts = [aset.read_shard(i) for i in range(aset.n_shards)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@torch.inference_mode()
def bare_encode(run: Path, dataset: Path, batch_tokens: int) -> tuple[float, float, int]:
    """(seconds encoding from RAM, seconds reading shards + encoding, tokens) in the analyser's batch size."""
    from shared.sae import load_sae
    from shared.shards import ActivationSet

    sae = load_sae(run).eval()
    acts, _ = all_activations(dataset)
    per_batch = max(1, batch_tokens // acts.shape[1])
    x = torch.from_numpy(acts)
    sae.encode(x[:per_batch])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(x), per_batch):
        sae.encode(x[i : i + per_batch])
    in_ram = time.perf_counter() - start
    aset = ActivationSet.open(dataset)
    start = time.perf_counter()
    for shard in range(aset.n_shards):
        chunk = torch.from_numpy(aset.read_shard(shard)[0])
        for i in range(0, len(chunk), per_batch):
            sae.encode(chunk[i : i + per_batch])
    with_reading = time.perf_counter() - start
    return in_ram, with_reading, int(acts.shape[0] * acts.shape[1])


def unembedding(dataset: Path) -> np.ndarray:
    """[d, V] unembedding of the dataset's LM with the final norm's weight folded in (as TransformerLens does)."""
    from shared.lm import load_lm
    from shared.shards import ActivationSet

    meta = ActivationSet.open(dataset).meta
    lm = load_lm(str(meta.model), meta.gguf_file)
    head = lm.model.get_output_embeddings().weight.detach().float()
    norm = lm.model.model.norm.weight.detach().float() if lm.family == "llama" else None
    if norm is not None:
        head = head * norm
    return head.T.contiguous().numpy()


def saedashboard(run: Path, dataset: Path, feature_counts: list[int]) -> dict:
    """Write the peer's inputs next to the run and time SAEDashboard in .bench/dashboard."""
    from shared.sae import load_sae
    from shared.shards import ActivationSet

    if not DASHBOARD_PY.is_file():
        raise FileNotFoundError(
            f"{DASHBOARD_PY}: the SAEDashboard venv is missing; run bench/peers/setup_venvs.sh"
        )
    folder = OUT / "analysis" / "saedashboard"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    acts, tokens = all_activations(dataset)
    np.save(folder / "acts.npy", acts)
    np.save(folder / "tokens.npy", tokens)
    np.save(folder / "W_U.npy", unembedding(dataset))
    shutil.copy(run / "sae.safetensors", folder / "sae.safetensors")
    sae_cfg = load_sae(run).cfg
    spec = {
        "architecture": sae_cfg.architecture,
        "k": sae_cfg.k,
        "feature_counts": feature_counts,
        "warmup_features": 8,
        "minibatch_size_features": DASHBOARD_FEATURE_BATCH,
        "minibatch_size_tokens": DASHBOARD_TOKEN_BATCH,
        "prepend_bos": bool(ActivationSet.open(dataset).meta.prepend_bos),
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    cmd = [str(DASHBOARD_PY), "-m", "bench.peers.dashboard_analyse", str(folder)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"SAEDashboard run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def extrapolate(seconds_by_features: dict[str, float], d_sae: int) -> float:
    """Seconds for all ``d_sae`` features: least-squares line through the origin over the timed subsets.

    SAEDashboard works in batches of 256 features and repeats the same work for each (encode every token, rolling
    correlations, per-feature sequence data), and its warm-up is untimed, so its time is proportional to the number
    of feature batches; a free intercept fitted through two noisy points on this shared machine went negative."""
    n = np.array([int(k) for k in seconds_by_features], dtype=float)
    t = np.array(list(seconds_by_features.values()))
    return float((n * t).sum() / (n * n).sum() * d_sae)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--architecture", choices=("topk", "relu"), default="topk", help="the SAE to analyse")
    parser.add_argument("--d-sae", type=int, default=6144)
    parser.add_argument(
        "--train-steps", type=int, default=300, help="steps of the SAE to analyse (trained once)"
    )
    parser.add_argument(
        "--dashboard-features", default="256,512", help="feature subsets SAEDashboard is timed on"
    )
    parser.add_argument(
        "--tokens", type=int, default=ANALYSIS_TOKENS, help="activations to collect (once) and analyse"
    )
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument(
        "--no-peer",
        action="store_true",
        help="only ours vs the bare encode (no SAEDashboard run, no LM-forward estimate): for larger --tokens",
    )
    parser.add_argument(
        "--no-estimate",
        action="store_true",
        help="skip the LM forward behind the SAEDashboard-at-defaults estimate (minutes at large --tokens)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the analysis (summary on stderr)")
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    dataset = collect_smollm2(args.corpus, args.tokens)
    run = trained_run(dataset, args.architecture, args.d_sae, args.train_steps)
    from shared.config import AnalyseConfig

    batch_tokens = AnalyseConfig().batch_tokens
    full_s = analyse(run, args.profile)
    pass_s = analysis_pass(run)
    in_ram_s, reading_s, n_tokens = bare_encode(run, dataset, batch_tokens)
    # the LM's load time is reported in every row; its forward over every token only feeds the peer estimate
    estimate = not (args.no_peer or args.no_estimate)
    tokens = all_activations(dataset)[1] if estimate else np.empty((0, 0), dtype=np.int64)
    lm_s, forward_s = lm_seconds(dataset, tokens, DASHBOARD_TOKEN_BATCH)
    peer: dict = {}
    peer_all_s = float("nan")
    if not args.no_peer:
        counts = [int(c) for c in args.dashboard_features.split(",")]
        peer = saedashboard(run, dataset, counts)
        peer_all_s = extrapolate(peer["seconds_by_features"], args.d_sae)
    feature_batches = -(-args.d_sae // DASHBOARD_FEATURE_BATCH)
    common = {
        "tokens": n_tokens,
        "d_sae": args.d_sae,
        "architecture": args.architecture,
        "l0": analysed_l0(run),
        "data": "SmolLM2-135M blocks.15.hook_resid_pre, TinyStories",
        "full_analysis_seconds": round(full_s, 2),
        "pass_seconds": round(pass_s, 2),
        "lm_load_seconds": round(lm_s, 2),
        "machine": machine(),
    }
    dashboard = {
        "baseline_timed_features": peer.get("seconds_by_features"),
        "baseline_extrapolated_to_features": args.d_sae,
        "sae_dashboard": peer.get("sae_dashboard"),
        "sae_lens": peer.get("sae_lens"),
    }
    rows = [
        (
            "analysis_pass_vs_bare_encode",
            pass_s,
            in_ram_s,
            0.6,
            {"baseline": "sae.encode, activations in RAM"},
        ),
        (
            "full_analysis_vs_bare_encode",
            full_s,
            in_ram_s,
            0.6,
            {"baseline": "sae.encode, activations in RAM"},
        ),
        (
            "analysis_pass_vs_read_and_encode",
            pass_s,
            reading_s,
            None,
            {"baseline": "HDF5 reading + sae.encode"},
        ),
        ("full_analysis_vs_saedashboard", full_s, peer_all_s, 20.0, {"baseline": DASHBOARD, **dashboard}),
        (
            "full_analysis_vs_saedashboard_default_estimate",
            full_s,
            peer_all_s + feature_batches * forward_s,
            20.0,
            {
                "baseline": DASHBOARD_DEFAULT,
                "estimated": True,
                "lm_forward_seconds": round(forward_s, 2),
                "feature_batches": feature_batches,
                **dashboard,
            },
        ),
    ]
    if args.no_peer:
        rows = [row for row in rows if "saedashboard" not in row[0]]
    elif args.no_estimate:
        rows = [row for row in rows if not row[0].endswith("_estimate")]
    for name, ours_s, base_s, goal, extra in rows:
        emit(
            {
                "measurement": name,
                "ours_tokens_per_s": round(n_tokens / ours_s, 1),
                "baseline_tokens_per_s": round(n_tokens / base_s, 1),
                "ratio": round(base_s / ours_s, 3),
                "goal": goal,
                "ours_seconds": round(ours_s, 2),
                "baseline_seconds": round(base_s, 2),
                **extra,
                **common,
            },
            args.out,
        )


def analysed_l0(run: Path) -> float | None:
    """Mean active features per token over the analysed tokens (from results/), for context."""
    summary = run / "results" / "summary.json"
    if not summary.is_file():
        return None
    data = json.loads(summary.read_text())
    n_tokens = data.get("n_tokens") or 0
    features = run / "results" / "features.jsonl"
    if not n_tokens or not features.is_file():
        return None
    total = sum(json.loads(line).get("density", 0.0) for line in features.read_text().splitlines() if line)
    return round(total, 1)


if __name__ == "__main__":
    main()
