"""``saelab explain``: explain features of an analysed run with an LLM (Delphi's detection and fuzzing scores).

Prints the cost/time estimate first; ``--dry-run`` stops there, ``--yes`` goes on without asking (a terminal is
asked, anything else must pass ``--yes``). The job runs on the job system (the in-process worker, or Celery when
``SAELAB_BROKER_URL`` is set) with progress per feature; the endpoint comes from ``SAELAB_EXPLAINER_BASE_URL`` /
``_MODEL`` / ``_API_KEY`` (``--base-url`` and ``--model`` override the first two; the key only ever comes from the
environment).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cli.errors import CliError


def _features(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected indices like 1,2,3 (got {text!r})") from None


def _config(args: argparse.Namespace) -> dict[str, Any]:
    cfg: dict[str, Any] = {"features": None if args.all else args.features}
    for key in ("n_explain", "n_test", "per_prompt", "scan_contexts", "seed"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    return cfg


def _estimate(run_id: str, cfg: Any, seconds_per_call: float) -> Any:
    from shared.config import AnalyseConfig
    from shared.db.repositories.llm_explanations import live_features
    from shared.db.repositories.runs import get_run
    from shared.db.session import session_scope
    from shared.explain.config import estimate

    with session_scope() as s:
        run = get_run(s, run_id)
        if run.analysed_at is None:
            raise CliError(f"run {run_id} is not analysed yet: `saelab analyse` it first")
        analysed = AnalyseConfig.model_validate(run.analyse_config or {})
        n = len(live_features(s, run_id, cfg.features))
    return estimate(cfg, n, analysed.window_left + 1 + analysed.window_right, seconds_per_call)


def cmd_explain(args: argparse.Namespace) -> None:
    from cli.service_commands import follow_pipeline
    from shared.explain.client import ChatClient
    from shared.explain.config import METHOD, ExplainConfig
    from shared.settings import get_settings

    if args.base_url:
        os.environ["SAELAB_EXPLAINER_BASE_URL"] = args.base_url
    if args.model:
        os.environ["SAELAB_EXPLAINER_MODEL"] = args.model
    get_settings.cache_clear()
    cfg = ExplainConfig.model_validate(_config(args))
    est = _estimate(args.run, cfg, args.seconds_per_call)
    model = get_settings().explainer_model or "(none configured)"
    print(
        f"explain {est.features} features of run {args.run} with {model} ({METHOD}): {est.llm_calls} LLM calls, "
        f"~{est.prompt_tokens:,} prompt tokens, <= {est.max_completion_tokens:,} completion tokens, "
        f"~{est.seconds:,.0f} s at {est.seconds_per_call:g} s per call"
    )
    if args.dry_run or est.features == 0:
        return
    ChatClient.from_settings()  # NotConfigured names the variables before anything is queued
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("not a terminal: pass --yes to run the job (or --dry-run for the estimate alone)")
        if input("run it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("not run")
            return
    from shared.jobs import embedded

    try:
        sub = embedded.submit_explanation(args.run, cfg)
        print(f"job {sub.job_id} (pipeline {sub.pipeline_id})")
        jobs = follow_pipeline(sub.pipeline_id, poll=0.5)
    finally:
        embedded.stop_worker()
    failed = [j for j in jobs if j.status != "succeeded"]
    if failed:
        raise CliError(f"explain {failed[0].status}: {failed[0].error or failed[0].message}")
    print(jobs[-1].message)


def add_explain_command(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help="explain features with an LLM (OpenAI-compatible endpoint) and score them by detection and fuzzing",
        description=__doc__,
    )
    p.add_argument("--run", required=True, help="run id (as `saelab up` lists it)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--features", type=_features, help="feature indices, comma-separated: 1,2,3")
    which.add_argument("--all", action="store_true", help="every feature that fired")
    p.add_argument("--n-explain", type=int, help="top examples shown to the explainer (default 10)")
    p.add_argument("--n-test", type=int, help="held-out activating contexts per score (default 10)")
    p.add_argument("--per-prompt", type=int, help="examples per detection/fuzzing call (default 5)")
    p.add_argument("--scan-contexts", type=int, help="held-out contexts scanned for negatives (default 256)")
    p.add_argument("--seed", type=int, help="seed of orders and random highlights (default 0)")
    p.add_argument("--base-url", help="override SAELAB_EXPLAINER_BASE_URL")
    p.add_argument("--model", help="override SAELAB_EXPLAINER_MODEL")
    p.add_argument(
        "--seconds-per-call", type=float, default=2.0, help="assumed time per call for the estimate"
    )
    go = p.add_mutually_exclusive_group()
    go.add_argument("--dry-run", action="store_true", help="print the estimate and stop")
    go.add_argument("--yes", action="store_true", help="run without asking")
    p.set_defaults(fn=cmd_explain)
