"""``train_sweep(cfg)``: several SAEs trained on one activation stream, each batch read once and fed to all.

Every member is an ordinary run directory (``<output>/<member>``, the same layout ``train`` writes): its own
config, metrics.jsonl, checkpoints and final export. The members share the data keys (``SWEEP_SHARED_KEYS``), so
one ``BatchIterator`` serves them all and each member's trajectory is exactly that of its own ``saelab train``
run (same seed, same batches in the same order; training draws nothing from the global RNG).

On the CPU the members of one step can run side by side (``SweepConfig.parallel_members``): N worker threads,
torch's intra-op threads divided among them for the whole sweep. Each member still takes its batches in order on
its own state (its own generators; the shared batch is read-only), so scheduling never changes a result: a member
is then bit-identical to its own run at that thread count. Metrics rows, checkpoints, progress and stop checks stay
on the calling thread, between steps, in member order.

Checkpoints are taken for every member at the same step; a resumed sweep restarts from the newest step every
member has a complete checkpoint for, so an interrupted sweep ends bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
    """One SAE of a sweep: its name, config, run directory, trainer and metrics log (rows wait in ``pending``
    until the calling thread writes them after the step)."""

    name: str
    cfg: TrainConfig
    run_dir: Path
    trainer: SAETrainer
    metrics: MetricsLog
    pending: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    last_step_s: float = 0.0

    def step(self, batch: Tensor, inputs: ScaledBatch) -> None:
        t = time.perf_counter()
        self.trainer.train_on(batch, inputs)
        self.last_step_s = time.perf_counter() - t
        self.seconds += self.last_step_s

    def flush_metrics(self) -> None:
        for row in self.pending:
            self.metrics(row)
        self.pending.clear()


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
    """Training steps of each member (forward, backward, optimiser, tracking, metrics); members trained side by
    side overlap, so these add up to more than ``steps_s``."""
    steps_s: float = 0.0
    """Wall time of the members' steps, all members together."""
    workers: int = 1
    """Members trained at once (``parallel_members`` resolved)."""
    threads_per_member: int = 0
    """Torch intra-op threads each member's ops ran on."""
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
    configs = sweep.members()
    if run_dirs is not None:
        configs = [(n, c.model_copy(update={"output": str(run_dirs[n])})) for n, c in configs]
    first = configs[0][1]
    device = resolve_device(first.device)
    workers, threads = member_parallelism(sweep.parallel_members, len(configs), device)
    with intra_op_threads(threads):
        return _train(sweep, configs, device, workers, progress, on_metrics, should_stop, on_checkpoint)


def _train(
    sweep: SweepConfig,
    configs: list[tuple[str, TrainConfig]],
    device: torch.device,
    workers: int,
    progress: ProgressSink | None,
    on_metrics: Callable[[str, dict[str, Any]], None] | None,
    should_stop: Callable[[], bool] | None,
    on_checkpoint: Callable[[str, Path], None] | None,
) -> SweepResult:
    t0 = time.perf_counter()
    first = configs[0][1]
    configure_backends(first, device)
    aset = ActivationSet.open(sweep.activations, require_complete=True)
    data = training_data(aset, first)
    batches = data.batches(first.batch_size, first.seed, first.shuffle_buffer_tokens)
    step = common_step([Path(cfg.output) for _, cfg in configs])
    init = InitCache(data)
    draw = _serialised(data.draw)  # resampling reads the shards; members resampling at once take turns
    members = [
        _member(name, cfg, aset, data, draw, device, on_metrics, init if step is None else None)
        for name, cfg in configs
    ]
    if step is not None:
        _resume(members, batches, step)
    result = SweepResult({m.name: m.run_dir for m in members}, False, members[0].trainer.step)
    result.workers, result.threads_per_member = workers, torch.get_num_threads()
    result.setup_s = time.perf_counter() - t0

    def checkpoint_all() -> None:
        t = time.perf_counter()
        for m in members:
            save_checkpoint(m.run_dir, m.trainer, batches, _named(on_checkpoint, m.name))
        result.checkpoint_s += time.perf_counter() - t

    try:
        with _member_pool(workers) as pool:
            result.finished = _fit(
                members, batches, first, result, checkpoint_all, progress, should_stop, pool
            )
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
        "sweep %s: %d SAEs (%d at once, %d threads each), step %d, setup %.2fs, data %.2fs, training %.2fs, "
        "checkpoints %.2fs",
        sweep.name, len(members), workers, result.threads_per_member, result.steps, result.setup_s,
        result.data_s, result.steps_s, result.checkpoint_s,
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
    pool: ThreadPoolExecutor | None,
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
        t = time.perf_counter()
        if pool is None:
            for m in members:
                m.step(batch, prepared[m.trainer.input_scale])
        else:
            _step_side_by_side(pool, members, batch, prepared)
        result.steps_s += time.perf_counter() - t
        for m in members:  # on this thread, in member order, whatever order the steps ended in
            m.flush_metrics()
        step += 1
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.n_steps:
            checkpoint_all()
        report(progress, step, cfg.n_steps, _progress_message(members))
    return True


def _step_side_by_side(
    pool: ThreadPoolExecutor, members: list[Member], batch: Tensor, prepared: dict[float, ScaledBatch]
) -> None:
    """One step of every member on the pool's threads, the slowest (by its last step) started first; returns when
    all have ended, then raises the first member's error, if any (in member order)."""
    order = sorted(members, key=lambda m: m.last_step_s, reverse=True)
    futures: dict[str, Future[None]] = {
        m.name: pool.submit(m.step, batch, prepared[m.trainer.input_scale]) for m in order
    }
    wait(futures.values())
    for m in members:
        futures[m.name].result()


def member_parallelism(
    setting: Literal["auto"] | int, n_members: int, device: torch.device
) -> tuple[int, int]:
    """(members trained at once, torch intra-op threads for the sweep) for ``parallel_members`` = ``setting``."""
    threads = torch.get_num_threads()
    wanted = min(n_members, threads) if isinstance(setting, str) else setting
    if device.type != "cpu":
        if not isinstance(setting, str) and setting > 1:
            log.info("parallel_members %d: applies to the CPU; on %s members train one after another", setting,
                     device)  # fmt: skip
        return 1, threads
    workers = max(1, min(wanted, n_members))
    return workers, max(1, threads // workers) if workers > 1 else threads


@contextlib.contextmanager
def _member_pool(workers: int) -> Iterator[ThreadPoolExecutor | None]:
    if workers == 1:
        yield None
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="sweep-member") as pool:
        yield pool


@contextlib.contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Torch's intra-op thread count set to ``n`` for the block (new threads take it too), restored after."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _serialised(fn: Callable[[int, int], Tensor]) -> Callable[[int, int], Tensor]:
    lock = threading.Lock()

    def call(n: int, seed: int) -> Tensor:
        with lock:
            return fn(n, seed)

    return call


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
    draw: Callable[[int, int], Tensor],
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
    pending: list[dict[str, Any]] = []
    trainer = SAETrainer(sae, cfg, iter(()), device=device, on_metrics=pending.append, resample_inputs=draw)
    if (
        init is not None
    ):  # right after creation, as ``train`` does: the global RNG is where a single run has it
        sample, median = init.get(cfg)
        trainer.initialise(sample, median)
        metrics.path.unlink(missing_ok=True)
    return Member(name, cfg, run_dir, trainer, metrics, pending)


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
