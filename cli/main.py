"""The `saelab` command line: run any pipeline stage locally with progress bars, on the embedded defaults."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.errors import CliError
from cli.sae_commands import add_sae_commands
from cli.service_commands import add_service_commands
from shared.config import (
    AnalyseConfig,
    CollectConfig,
    ConfigError,
    EvaluateConfig,
    TrainConfig,
    load_config,
    parse_override,
)
from shared.progress import TqdmProgress

log = logging.getLogger("saelab")
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / "configs"


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _overrides(args: argparse.Namespace, **named: Any) -> dict[str, Any]:
    """Collect `--set key=value` items plus the named shortcut flags that were given."""
    out = dict(parse_override(item) for item in args.set or [])
    out.update({key: value for key, value in named.items() if value is not None})
    return out


def _with_bar(desc: str, unit: str, fn: Callable[[TqdmProgress], Any]) -> Any:
    bar = TqdmProgress(desc, unit)
    try:
        return fn(bar)
    finally:
        bar.close()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# --------------------------------------------------------------------------------------------------------------
# Stage commands
# --------------------------------------------------------------------------------------------------------------


def cmd_collect(args: argparse.Namespace) -> None:
    hook = args.hook[0] if args.hook and len(args.hook) == 1 else args.hook  # several: one pass, one set each
    cfg = load_config(
        CollectConfig,
        args.config,
        _overrides(args, model=args.model, corpus=args.corpus, output=args.output, hook=hook),
    )
    from services.collector.collect import collect

    _with_bar("collect", "tok", lambda bar: collect(cfg, progress=bar))
    for one in cfg.per_hook():
        print(f"activations: {one.output}" + (f"  ({one.hook})" if one is not cfg else ""))


def cmd_train(args: argparse.Namespace) -> None:
    cfg = load_config(
        TrainConfig, args.config, _overrides(args, activations=args.activations, output=args.output)
    )
    from services.trainer.run import train

    out = _with_bar("train", "step", lambda bar: train(cfg, progress=bar))
    print(f"run: {out}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    cfg = load_config(EvaluateConfig, args.config, _overrides(args, run=args.run))
    from services.trainer.evaluate import evaluate_run, format_eval_table

    result = _with_bar("evaluate", "tok", lambda bar: evaluate_run(cfg, progress=bar))
    print(format_eval_table(result))


def cmd_analyse(args: argparse.Namespace) -> None:
    cfg = load_config(AnalyseConfig, args.config, _overrides(args, run=args.run, n_tokens=args.tokens))
    from services.analyser.analyse import analyse_run

    out = _with_bar("analyse", "tok", lambda bar: analyse_run(cfg, progress=bar))
    print(f"results: {out}")


# --------------------------------------------------------------------------------------------------------------
# Demo: the whole pipeline on a preset
# --------------------------------------------------------------------------------------------------------------


class _StageClock:
    """Wall time of each demo stage, printed as it ends and summed at the end."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps.append((stage, now - self.last))
        self.last = now
        print(f"      {stage}: {self.laps[-1][1]:.0f} s")

    def summary(self) -> str:
        stages = ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in self.laps)
        return f"wall time {time.perf_counter() - self.start:.0f} s ({stages})"


def cmd_demo(args: argparse.Namespace) -> None:
    from cli.presets import default_out, load_preset
    from cli.sources import resolve_demo_sources

    sources = resolve_demo_sources(args.model, args.corpus, args.hook)
    for line in sources.notes:
        print(line)
    preset = load_preset(args.preset, sources, Path(args.out) if args.out else default_out(args.preset))
    collect_cfg, train_cfg = preset.collect, preset.train
    from services.analyser.analyse import analyse_run
    from services.collector.collect import collect
    from services.trainer.evaluate import evaluate_run, format_eval_table
    from services.trainer.run import train

    print(f"preset {preset.name} ({preset.path})")
    clock = _StageClock()
    print(f"[1/4] collect {collect_cfg.n_tokens:,} tokens of {sources.model} at {sources.hook}")
    _with_bar("collect", "tok", lambda bar: collect(collect_cfg, progress=bar))
    clock.lap("collect")
    print(f"[2/4] train a {train_cfg.architecture} SAE, d_sae {train_cfg.d_sae}, {train_cfg.n_steps} steps")
    run_dir = _with_bar("train", "step", lambda bar: train(train_cfg, progress=bar))
    clock.lap("train")
    print("[3/4] evaluate on held-out tokens")
    result = _with_bar("evaluate", "tok", lambda bar: evaluate_run(preset.evaluate, progress=bar))
    clock.lap("evaluate")
    print(format_eval_table(result))
    print("[4/4] analyse every feature")
    results = _with_bar("analyse", "tok", lambda bar: analyse_run(preset.analyse, progress=bar))
    clock.lap("analyse")
    print(clock.summary())
    print(f"done: run {run_dir}, feature results in {results}")


# --------------------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------------------


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one config key (repeatable; YAML values)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saelab", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("collect", help="collect LM activations into HDF5 shards")
    p.add_argument("--config", type=Path, help="YAML config (configs/collect.yaml)")
    p.add_argument("--model", help="hub name, local model directory or .gguf file")
    p.add_argument("--corpus", help="hub dataset or local .txt/.jsonl file or folder")
    p.add_argument("--output", help="activation set directory")
    p.add_argument(
        "--hook",
        action="append",
        help="hook point, e.g. blocks.8.hook_resid_pre (repeat it to collect several in one pass, each into "
        "OUTPUT/<hook>/)",
    )
    _add_set(p)
    p.set_defaults(fn=cmd_collect)

    p = sub.add_parser("train", help="train an SAE on collected activations")
    p.add_argument("--config", type=Path, help="YAML config (configs/train_*.yaml)")
    p.add_argument("--activations", help="activation set directory")
    p.add_argument("--output", help="run directory")
    _add_set(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained SAE on held-out tokens")
    p.add_argument("--run", help="run directory")
    p.add_argument("--config", type=Path, help="optional YAML config")
    _add_set(p)
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("analyse", help="one-pass analysis of every feature of a run")
    p.add_argument("--run", help="run directory")
    p.add_argument("--tokens", type=int, help="analyse at most this many tokens")
    p.add_argument("--config", type=Path, help="optional YAML config (configs/analyse.yaml)")
    _add_set(p)
    p.set_defaults(fn=cmd_analyse)

    p = sub.add_parser(
        "demo", help="collect -> train -> evaluate -> analyse on a preset (configs/demo_*.yaml)"
    )
    p.add_argument(
        "--preset",
        default="default",
        help="configs/demo_NAME.yaml (default: TopK d_sae 4096; spec: the original spec's ReLU d_sae 128), or a "
        ".yaml file",
    )
    p.add_argument(
        "--model", default="auto", help="'auto' (GPT-2 from the hub, else the packaged SmolLM2), or a model"
    )
    p.add_argument(
        "--corpus", default="auto", help="'auto' (TinyStories from the hub, else ../shared/data/tinystories)"
    )
    p.add_argument(
        "--hook",
        default="auto",
        help="'auto' (GPT-2's blocks.8, SmolLM2's blocks.15 hook_resid_pre), or a hook",
    )
    p.add_argument(
        "--out", help="output directory (default artifacts/demo, artifacts/demo-NAME for other presets)"
    )
    p.set_defaults(fn=cmd_demo)

    add_service_commands(sub)
    add_sae_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format='{"time": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", "message": %(message)r}',
    )
    try:
        args.fn(args)
    except Exception as err:
        if not isinstance(err, _user_errors()):
            raise
        print(f"saelab {args.command}: {err}", file=sys.stderr)
        return 2
    return 0


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that explain a problem with the user's input or environment: one line, no traceback.

    Imported only when an error happened, so a config typo never waits for torch to import.
    """
    from services.analyser.results import ResultsError
    from services.collector.collect import CollectError
    from services.collector.corpus import CorpusError
    from services.trainer.evaluate import EvaluateError
    from shared.db.repositories import NotFound
    from shared.lm import HookError, ModelLoadError
    from shared.sae.hub import HubError
    from shared.sae.imports import ImportSAEError
    from shared.sae.io import SAELoadError
    from shared.sae.releases import ReleaseError
    from shared.sae.saelens import SAELensFormatError
    from shared.shards import ShardFormatError
    from shared.store import StoreError

    return (
        ConfigError,
        CliError,
        CollectError,
        CorpusError,
        EvaluateError,
        ResultsError,
        NotFound,
        HookError,
        ModelLoadError,
        SAELoadError,
        SAELensFormatError,
        HubError,
        ImportSAEError,
        ReleaseError,
        ShardFormatError,
        StoreError,
    )


if __name__ == "__main__":
    sys.exit(main())
