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
from cli.explain import add_explain_command
from cli.register import add_register_command
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
from shared.sweep_config import SweepConfig

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


def _collect_if_asked(args: argparse.Namespace, run: str) -> None:
    """``--corpus`` (and ``--n-tokens``): collect activations for the run's SAE (an imported one has none) first."""
    if args.corpus is None:
        if args.n_tokens is not None:
            raise CliError(
                "--n-tokens: goes with --corpus (the tokens to collect for the SAE's model and hook)"
            )
        return
    from services.collector.byo import collect_for_run

    requested: dict[str, Any] = {"corpus": args.corpus}
    if args.n_tokens is not None:
        requested["n_tokens"] = args.n_tokens
    out = _with_bar("collect", "tok", lambda bar: collect_for_run(run, requested, progress=bar))
    print(f"activations: {out}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    cfg = load_config(EvaluateConfig, args.config, _overrides(args, run=args.run))
    _collect_if_asked(args, cfg.run)
    from services.trainer.evaluate import evaluate_run, format_eval_table

    result = _with_bar("evaluate", "tok", lambda bar: evaluate_run(cfg, progress=bar))
    print(format_eval_table(result))


def cmd_analyse(args: argparse.Namespace) -> None:
    cfg = load_config(AnalyseConfig, args.config, _overrides(args, run=args.run, n_tokens=args.tokens))
    _collect_if_asked(args, cfg.run)
    from services.analyser.analyse import analyse_run

    out = _with_bar("analyse", "tok", lambda bar: analyse_run(cfg, progress=bar))
    print(f"results: {out}")


# --------------------------------------------------------------------------------------------------------------
# Sweeps and comparisons
# --------------------------------------------------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> None:
    cfg = load_config(
        SweepConfig, args.config, _overrides(args, activations=args.activations, output=args.output)
    )
    from services.trainer.sweep import train_sweep

    members = cfg.members()
    print(f"sweep {cfg.name}: {len(members)} SAEs on one batch stream, {members[0][1].n_steps} steps")
    result = _with_bar("sweep", "step", lambda bar: train_sweep(cfg, progress=bar))
    print(
        f"trained in {result.data_s + result.steps_s + result.checkpoint_s:.1f}s: data {result.data_s:.1f}s (read "
        f"once), SAE steps {result.steps_s:.1f}s ({result.workers} at once, {result.threads_per_member} threads "
        "each: "
        + ", ".join(f"{name} {s:.1f}s" for name, s in result.member_s.items())
        + f"), checkpoints {result.checkpoint_s:.1f}s"
    )
    if cfg.evaluate is not None:
        from services.trainer.evaluate import evaluate_run

        for name, run_dir in result.run_dirs.items():
            ev = cfg.evaluate.model_copy(update={"run": str(run_dir)})
            _with_bar(f"evaluate {name}", "tok", lambda bar, ev=ev: evaluate_run(ev, progress=bar))
    if cfg.analyse is not None:
        from services.analyser.analyse import analyse_run

        for name, run_dir in result.run_dirs.items():
            an = cfg.analyse.model_copy(update={"run": str(run_dir)})
            _with_bar(f"analyse {name}", "tok", lambda bar, an=an: analyse_run(an, progress=bar))
    print(f"runs: {cfg.output}/<member>")
    if cfg.evaluate is not None:
        print(_compare_table(list(result.run_dirs.values())))


def cmd_compare(args: argparse.Namespace) -> None:
    runs = [Path(r) for r in args.runs]
    if args.sweep:
        root = Path(args.sweep)
        if not root.is_dir():
            raise CliError(f"--sweep: {root} is not a directory")
        runs += sorted(p for p in root.iterdir() if (p / "train_config.yaml").is_file())
    if not runs:
        raise CliError("compare: name run directories, or a sweep directory with --sweep")
    print(_compare_table(runs, as_json=args.json))


def _compare_table(runs: list[Path], as_json: bool = False) -> str:
    from dataclasses import asdict

    from shared.pareto import format_compare_table, point_from_eval

    points, datasets = [], {}
    for run in runs:
        config_file, eval_file = run / "train_config.yaml", run / "eval.json"
        if not config_file.is_file():
            raise CliError(f"{run}: not a run directory (no train_config.yaml)")
        train_cfg = load_config(TrainConfig, config_file)
        datasets[str(run)] = str(Path(train_cfg.activations).resolve())
        result = json.loads(eval_file.read_text()) if eval_file.is_file() else None
        points.append(point_from_eval(str(run), run.name, train_cfg.model_dump(), result))
    if len(set(datasets.values())) > 1:
        listing = "; ".join(f"{run}: {ds}" for run, ds in datasets.items())
        raise CliError(f"compare: the runs were trained on different activation sets ({listing})")
    if as_json:
        return json.dumps([asdict(p) for p in points], indent=2)
    missing = [p.name for p in points if not p.evaluated]
    note = f"\nnot evaluated yet (saelab evaluate --run ...): {', '.join(missing)}" if missing else ""
    return format_compare_table(points) + note


# --------------------------------------------------------------------------------------------------------------
# Demo: the whole pipeline on a preset
# --------------------------------------------------------------------------------------------------------------


DEMO_STAGES = ("collect", "train", "evaluate", "analyse")


def _stage_overrides(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--set STAGE.KEY=VALUE`` items of the demo, grouped by stage (an unknown stage is an error naming it)."""
    out: dict[str, dict[str, Any]] = {stage: {} for stage in DEMO_STAGES}
    for item in items or []:
        key, value = parse_override(item)
        stage, dot, name = key.partition(".")
        if not dot or stage not in out or not name:
            raise ConfigError(
                f"--set {item!r}: expected STAGE.KEY=VALUE with STAGE one of {', '.join(DEMO_STAGES)}"
            )
        out[stage][name] = value
    return out


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
    out = Path(args.out) if args.out else default_out(args.preset)
    preset = load_preset(args.preset, sources, out, overrides=_stage_overrides(args.set))
    collect_cfg, train_cfg = preset.collect, preset.train
    from services.analyser.analyse import analyse_run
    from services.collector.collect import collect
    from services.trainer.evaluate import evaluate_run, format_eval_table
    from services.trainer.run import train

    print(f"preset {preset.name} ({preset.path})")
    clock = _StageClock()
    print(f"[1/5] collect {collect_cfg.n_tokens:,} tokens of {collect_cfg.model} at {collect_cfg.hook}")
    _with_bar("collect", "tok", lambda bar: collect(collect_cfg, progress=bar))
    clock.lap("collect")
    print(f"[2/5] train a {train_cfg.architecture} SAE, d_sae {train_cfg.d_sae}, {train_cfg.n_steps} steps")
    run_dir = _with_bar("train", "step", lambda bar: train(train_cfg, progress=bar))
    clock.lap("train")
    print("[3/5] evaluate on held-out tokens")
    result = _with_bar("evaluate", "tok", lambda bar: evaluate_run(preset.evaluate, progress=bar))
    clock.lap("evaluate")
    print(format_eval_table(result))
    print("[4/5] analyse every feature")
    results = _with_bar("analyse", "tok", lambda bar: analyse_run(preset.analyse, progress=bar))
    clock.lap("analyse")
    print(f"done: run {run_dir}, feature results in {results}")
    run_id = _register_for_the_dashboard(run_dir, Path(collect_cfg.output))
    clock.lap("register")
    print(clock.summary())
    print()
    print("The dashboard is ready. Start it with:")
    print("    make up        (the same as: .venv/bin/saelab up)")
    print(f"then open http://127.0.0.1:8000/?run={run_id}")


def _register_for_the_dashboard(run_dir: Path, activations: Path) -> str:
    """The demo's end: register the run in the database `saelab up` serves and build the web client when missing;
    returns the run's id."""
    from cli.register import describe, register_run
    from cli.webclient import ensure_web_client

    print("[5/5] register the run for the dashboard")
    reg = register_run(run_dir, activations, name="demo")
    for line in describe(reg):
        print(line)
    ensure_web_client(say=print)  # a clear error naming the fix when Node.js is missing
    return reg.run_id


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


def _add_collect_for_sae(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--corpus",
        help="first collect activations for the SAE's own model and hook over this corpus (hub dataset or local "
        ".txt/.jsonl file or folder) into RUN/activations: what an imported SAE needs",
    )
    p.add_argument("--n-tokens", type=int, help="tokens to collect with --corpus (default 50,000)")


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
    _add_collect_for_sae(p)
    _add_set(p)
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("analyse", help="one-pass analysis of every feature of a run")
    p.add_argument("--run", help="run directory")
    p.add_argument("--tokens", type=int, help="analyse at most this many tokens")
    p.add_argument("--config", type=Path, help="optional YAML config (configs/analyse.yaml)")
    _add_collect_for_sae(p)
    _add_set(p)
    p.set_defaults(fn=cmd_analyse)

    p = sub.add_parser("sweep", help="train several SAEs on one activation stream, then evaluate each")
    p.add_argument("--config", type=Path, required=True, help="YAML config (configs/sweep_*.yaml)")
    p.add_argument("--activations", help="activation set directory")
    p.add_argument("--output", help="sweep directory (one run directory per member)")
    _add_set(p)
    p.set_defaults(fn=cmd_sweep)

    p = sub.add_parser("compare", help="evaluation of several runs side by side, with their Pareto fronts")
    p.add_argument("runs", nargs="*", help="run directories (evaluated with saelab evaluate)")
    p.add_argument("--sweep", help="a sweep directory: every run in it")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(fn=cmd_compare)

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
    p.add_argument(
        "--set",
        action="append",
        metavar="STAGE.KEY=VALUE",
        help="override one key of a stage's config, e.g. train.n_steps=100 (repeatable; YAML values)",
    )
    p.set_defaults(fn=cmd_demo)

    add_register_command(sub)
    add_service_commands(sub)
    add_sae_commands(sub)
    add_explain_command(sub)
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
    from shared.explain.client import ExplainerError
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
        ExplainerError,
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
