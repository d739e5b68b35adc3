"""``train_sweep(cfg)``: several SAEs trained on one activation stream, each batch read once and fed to all.

Every member is an ordinary run directory (``<output>/<member>``, the same layout ``train`` writes): its own
config, metrics.jsonl, checkpoints and final export. The members share the data keys (``SWEEP_SHARED_KEYS``), so
one ``BatchIterator`` serves them all and each member's trajectory is exactly that of its own ``saelab train``
run (same seed, same batches in the same order; training draws nothing from the global RNG).

Checkpoints are taken for every member at the same step; a resumed sweep restarts from the newest step every
member has a complete checkpoint for, so an interrupted sweep ends bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor

from services.trainer.data import ActivationDataset, BatchIterator
from services.trainer.run import (
    CHECKPOINTS,
    INIT_SAMPLE_TOKENS,
    METRICS_FILE,
    STATE_INFO,
    STATE_TENSORS,
    STEP_DIR,
    MetricsLog,
    configure_backends,
    export,
    sae_config,
    save_checkpoint,
    training_data,
    write_config,
)
from services.trainer.train import SAETrainer, ScaledBatch, estimate_input_scale, geometric_median
from shared.config import TrainConfig
from shared.devices import resolve_device
from shared.progress import ProgressSink, report
from shared.sae import create_sae
from shared.shards import ActivationSet
from shared.sweep_config import SweepConfig

log = logging.getLogger(__name__)


@dataclass
class Member:
    """One SAE of a sweep: its name, config, run directory, trainer and metrics log."""

    name: str
    cfg: TrainConfig
    run_dir: Path
    trainer: SAETrainer
    metrics: MetricsLog
    seconds: float = 0.0


@dataclass
class SweepResult:
    """How a sweep call ended: run directories by member, finished or stopped, and where the time went."""

    run_dirs: dict[str, Path]
    finished: bool
    steps: int
    setup_s: float = 0.0
    """Opening the data, building and initialising (or resuming) every member."""
    data_s: float = 0.0
    """Reading and shuffling batches, scaling them and their input statistics (once for all members of one input
    scale)."""
    member_s: dict[str, float] = field(default_factory=dict)
    """Training steps of each member (forward, backward, optimiser, tracking, metrics)."""
    checkpoint_s: float = 0.0
    """Checkpoints and the final export of every member."""


def train_sweep(
    sweep: SweepConfig,
    progress: ProgressSink | None = None,
    on_metrics: Callable[[str, dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[str, Path], None] | None = None,
    run_dirs: dict[str, Path] | None = None,
) -> SweepResult:
    """Train (or resume) every member of ``sweep``; ``on_metrics(member, row)`` and ``on_checkpoint(member,
    dir)`` name the member. Stopped (``should_stop``): every member checkpoints, ``finished`` is False.
    ``run_dirs`` puts members elsewhere than ``<output>/<member>`` (the job system: the store's run layout)."""
    t0 = time.perf_counter()
    configs = sweep.members()
    if run_dirs is not None:
        configs = [(n, c.model_copy(update={"output": str(run_dirs[n])})) for n, c in configs]
    first = configs[0][1]
    device = resolve_device(first.device)
    configure_backends(first, device)
    aset = ActivationSet.open(sweep.activations, require_complete=True)
    data = training_data(aset, first)
    batches = data.batches(first.batch_size, first.seed, first.shuffle_buffer_tokens)
    step = common_step([Path(cfg.output) for _, cfg in configs])
    init = InitCache(data)
    members = [
        _member(name, cfg, aset, data, device, on_metrics, init if step is None else None)
        for name, cfg in configs
    ]
    if step is not None:
        _resume(members, batches, step)
    result = SweepResult({m.name: m.run_dir for m in members}, False, members[0].trainer.step)
    result.setup_s = time.perf_counter() - t0

    def checkpoint_all() -> None:
        t = time.perf_counter()
        for m in members:
            save_checkpoint(m.run_dir, m.trainer, batches, _named(on_checkpoint, m.name))
        result.checkpoint_s += time.perf_counter() - t

    try:
        result.finished = _fit(members, batches, first, result, checkpoint_all, progress, should_stop)
    finally:
        for m in members:
            m.metrics.close()
    result.member_s = {m.name: m.seconds for m in members}
    result.steps = members[0].trainer.step
    if result.finished:
        checkpoint_all()
        t = time.perf_counter()
        for m in members:
            export(m.trainer, data, m.run_dir)
        result.checkpoint_s += time.perf_counter() - t
    log.info(
        "sweep %s: %d SAEs, step %d, setup %.2fs, data %.2fs, training %.2fs, checkpoints %.2fs",
        sweep.name, len(members), result.steps, result.setup_s, result.data_s, sum(result.member_s.values()),
        result.checkpoint_s,
    )  # fmt: skip
    return result


def _fit(
    members: list[Member],
    batches: BatchIterator,
    cfg: TrainConfig,
    result: SweepResult,
    checkpoint_all: Callable[[], None],
    progress: ProgressSink | None,
    should_stop: Callable[[], bool] | None,
) -> bool:
    step = members[0].trainer.step
    for m in members:
        m.trainer.start_clock()
    while step < cfg.n_steps:
        if should_stop is not None and should_stop():
            checkpoint_all()
            return False
        t = time.perf_counter()
        batch = next(batches)
        prepared: dict[float, ScaledBatch] = {}  # by input scale: scaled once, its statistics taken once
        for m in members:
            scale = m.trainer.input_scale
            if scale not in prepared:
                prepared[scale] = ScaledBatch.of(batch, scale, m.trainer.device)
        result.data_s += time.perf_counter() - t
        for m in members:
            t = time.perf_counter()
            m.trainer.train_on(batch, prepared[m.trainer.input_scale])
            m.seconds += time.perf_counter() - t
        step += 1
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.n_steps:
            checkpoint_all()
        report(progress, step, cfg.n_steps, _progress_message(members))
    return True


def _progress_message(members: list[Member]) -> str:
    evs = [m.trainer.last_metrics.get("explained_variance") for m in members]
    shown = [f"{v:.2f}" for v in evs if v is not None]
    return f"{len(members)} SAEs" + (f", EV {' / '.join(shown)}" if shown else "")


def _named(fn: Callable[[str, Path], None] | None, name: str) -> Callable[[Path], None] | None:
    return None if fn is None else (lambda path: fn(name, path))


def _member(
    name: str,
    cfg: TrainConfig,
    aset: ActivationSet,
    data: ActivationDataset,
    device: torch.device,
    on_metrics: Callable[[str, dict[str, Any]], None] | None,
    init: InitCache | None,
) -> Member:
    run_dir = Path(cfg.output)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, cfg)
    torch.manual_seed(cfg.seed)  # as ``train`` does: the member starts from its single run's weights
    sae = create_sae(sae_config(cfg, aset))
    forward = None if on_metrics is None else (lambda row: on_metrics(name, row))
    metrics = MetricsLog(run_dir / METRICS_FILE, forward, cfg)
    trainer = SAETrainer(sae, cfg, iter(()), device=device, on_metrics=metrics, resample_inputs=data.draw)
    if (
        init is not None
    ):  # right after creation, as ``train`` does: the global RNG is where a single run has it
        sample, median = init.get(cfg)
        trainer.initialise(sample, median)
        metrics.path.unlink(missing_ok=True)
    return Member(name, cfg, run_dir, trainer, metrics)


class InitCache:
    """The initialisation sample and its geometric median, computed once per (seed, normalisation) and shared by
    the members (the very numbers each member's own run computes)."""

    def __init__(self, data: ActivationDataset) -> None:
        self.data = data
        self._cache: dict[tuple[int, str], tuple[Tensor, Tensor]] = {}

    def get(self, cfg: TrainConfig) -> tuple[Tensor, Tensor]:
        key = (cfg.seed, cfg.normalise_activations)
        if key not in self._cache:
            sample = self.data.sample(INIT_SAMPLE_TOKENS, cfg.seed)
            scale = estimate_input_scale(sample) if cfg.normalise_activations == "expected_norm" else 1.0
            self._cache[key] = (sample, geometric_median(sample.float() * scale))
        return self._cache[key]


# ------------------------------------------------------------------------------------------------------ resume


def checkpoint_steps(run_dir: Path) -> set[int]:
    """Steps of the complete checkpoints in a run directory."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return set()
    return {
        int(m.group(1))
        for p in root.iterdir()
        if (m := STEP_DIR.match(p.name)) and (p / STATE_INFO).is_file() and (p / STATE_TENSORS).is_file()
    }


def common_step(run_dirs: list[Path]) -> int | None:
    """The newest step at which every run directory has a complete checkpoint, or None."""
    common = set.intersection(*(checkpoint_steps(d) for d in run_dirs))
    return max(common) if common else None


def _resume(members: list[Member], batches: BatchIterator, step: int) -> None:
    states = []
    for m in members:
        ckpt = m.run_dir / CHECKPOINTS / f"step-{step:08d}"
        info = json.loads((ckpt / STATE_INFO).read_text())
        m.trainer.load_state_dict(load_file(str(ckpt / STATE_TENSORS)), info)
        m.metrics.truncate(step)
        states.append(info["data"])
    if any(s != states[0] for s in states[1:]):
        raise ValueError(f"sweep checkpoints at step {step} disagree on the data position: {states}")
    batches.load_state_dict(states[0])
    log.info("sweep resumed at step %d (%d SAEs)", step, len(members))
