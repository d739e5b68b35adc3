"""Sweeps: N SAEs on one batch stream end exactly as their own runs; a stopped sweep resumes bit-identical.

Members trained side by side (``parallel_members`` > 1) run each op on ``T // N`` of torch's ``T`` intra-op threads,
and a different thread count may sum in a different order, so there a member's twin is its own run at that thread
count: the tests set ``T`` = 2 (``two_threads``) and compare a 2-wide sweep with runs at 1 thread.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from support.stops import StopAfter

from services.trainer.run import train
from services.trainer.sweep import checkpoint_steps, common_step, train_sweep
from services.trainer.train import SAETrainer
from shared.config import ConfigError, TrainConfig, validate_config
from shared.sae import load_sae
from shared.sweep_config import SweepConfig

COMMON = dict(
    d_sae=32,
    batch_size=64,
    n_steps=30,
    lr=3e-3,
    log_every=10,
    device="cpu",
    shuffle_buffer_tokens=256,
    eval_fraction=0.25,
)
MEMBERS: list[dict[str, Any]] = [
    {"name": "relu", "architecture": "relu", "l1_coefficient": 0.5},
    {"name": "topk", "architecture": "topk", "k": 4, "d_sae": 48},
    {"name": "batchtopk", "architecture": "batchtopk", "k": 6},
    {"name": "jumprelu", "architecture": "jumprelu", "l0_coefficient": 0.01, "lr": 1e-3},
]


def sweep_cfg(aset: Any, out: Path, parallel: int | str = 1, **common: Any) -> SweepConfig:
    return SweepConfig(
        activations=str(aset.path),
        output=str(out),
        common=COMMON | common,
        saes=MEMBERS,
        parallel_members=parallel,
    )


@pytest.fixture
def two_threads() -> Iterator[None]:
    """Torch at 2 intra-op threads for the test (whatever the machine's default), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def train_at(cfg: TrainConfig, threads: int) -> Path:
    """``train(cfg)`` with torch at ``threads`` intra-op threads (what ``OMP_NUM_THREADS`` sets for a CLI run)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return train(cfg)
    finally:
        torch.set_num_threads(before)


def rows(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "tokens_per_s"} for line in lines]


def assert_same_run(a: Path, b: Path) -> None:
    sa, sb = load_sae(a).state_dict(), load_sae(b).state_dict()
    assert sa.keys() == sb.keys()
    for name, t in sa.items():
        assert torch.equal(t, sb[name]), f"{a.name}: {name} differs"
    assert rows(a) == rows(b)


@pytest.mark.parametrize("parallel, member_threads", [(1, 2), (2, 1)])
def test_each_member_ends_exactly_as_its_own_run(
    tmp_path: Path, synthetic, two_threads, parallel, member_threads
):
    """One after another (1): each member is its own run at the sweep's 2 threads. Side by side (2): each member
    is its own run at 1 thread, the share each of the two got. Metrics reach ``on_metrics`` on the calling
    thread, in member order, whichever member ended its step first."""
    sweep = sweep_cfg(synthetic, tmp_path / "sweep", parallel)
    seen: list[tuple[str, int, bool]] = []
    main = threading.current_thread()
    result = train_sweep(
        sweep,
        on_metrics=lambda name, row: seen.append((name, row["step"], threading.current_thread() is main)),
    )
    assert result.finished and result.steps == 30
    assert (result.workers, result.threads_per_member) == (parallel, member_threads)
    assert torch.get_num_threads() == 2  # restored
    assert set(result.run_dirs) == {"relu", "topk", "batchtopk", "jumprelu"}
    names = ["relu", "topk", "batchtopk", "jumprelu"]
    assert seen == [(n, step, True) for step in (10, 20, 30) for n in names]
    for name, cfg in sweep.members():
        alone = train_at(cfg.model_copy(update={"output": str(tmp_path / "alone" / name)}), member_threads)
        assert_same_run(result.run_dirs[name], alone)
        assert load_sae(result.run_dirs[name]).cfg.architecture == cfg.architecture
    assert load_sae(result.run_dirs["topk"]).cfg.d_sae == 48
    assert result.data_s > 0 and all(s > 0 for s in result.member_s.values())


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_sweep_stopped_mid_way_resumes_bit_identical(tmp_path: Path, synthetic, parallel):
    full = train_sweep(sweep_cfg(synthetic, tmp_path / "full", parallel, checkpoint_every=10))
    split_cfg = sweep_cfg(synthetic, tmp_path / "split", parallel, checkpoint_every=10)
    stored: list[tuple[str, str]] = []
    first = train_sweep(
        split_cfg, should_stop=StopAfter(17), on_checkpoint=lambda n, p: stored.append((n, p.name))
    )
    assert not first.finished and first.steps == 17
    assert ("jumprelu", "step-00000017") in stored and ("relu", "step-00000010") in stored
    assert not any((d / "sae.safetensors").exists() for d in first.run_dirs.values())
    second = train_sweep(split_cfg)
    assert second.finished
    for name in full.run_dirs:
        assert_same_run(full.run_dirs[name], second.run_dirs[name])


def test_resume_goes_back_to_the_newest_step_every_member_has(tmp_path: Path, synthetic):
    full = train_sweep(sweep_cfg(synthetic, tmp_path / "full", checkpoint_every=10))
    cfg = sweep_cfg(synthetic, tmp_path / "split", checkpoint_every=10)
    train_sweep(cfg, should_stop=StopAfter(25))
    dirs = [tmp_path / "split" / m["name"] for m in MEMBERS]
    assert all(checkpoint_steps(d) == {20, 25} for d in dirs)
    shutil.rmtree(dirs[2] / "checkpoints" / "step-00000025")  # killed while checkpointing the third member
    assert common_step(dirs) == 20
    resumed = train_sweep(cfg)
    for name in full.run_dirs:
        assert_same_run(full.run_dirs[name], resumed.run_dirs[name])


def test_side_by_side_equals_one_after_another_at_the_same_threads(tmp_path: Path, synthetic, monkeypatch):
    """At 1 intra-op thread both ways, 4 members on 4 threads end bit for bit as the sequential sweep: which
    thread runs a member, and in what order the steps of one batch end, never reaches a result. Steps run on
    the workers, 4 at once (seen overlapping), at 1 thread each."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one_by_one = train_sweep(sweep_cfg(synthetic, tmp_path / "seq", 1, checkpoint_every=10))
        barrier = threading.Barrier(4, timeout=30)
        seen: set[tuple[str, int]] = set()
        step = SAETrainer.train_on

        def on_worker(self: SAETrainer, *args: Any) -> None:
            seen.add((threading.current_thread().name.split("_")[0], torch.get_num_threads()))
            if self.step == 0:
                barrier.wait()  # all four are in their first step at once, or this times out
            step(self, *args)

        monkeypatch.setattr(SAETrainer, "train_on", on_worker)
        side_by_side = train_sweep(sweep_cfg(synthetic, tmp_path / "par", 4, checkpoint_every=10))
    finally:
        torch.set_num_threads(before)
    assert seen == {("sweep-member", 1)}
    for name in one_by_one.run_dirs:
        assert_same_run(one_by_one.run_dirs[name], side_by_side.run_dirs[name])


def test_a_member_error_in_a_worker_reaches_the_caller(tmp_path: Path, synthetic, monkeypatch):
    step = SAETrainer.train_on

    def failing(self: SAETrainer, *args: Any) -> None:
        if self.sae.cfg.architecture == "batchtopk" and self.step == 3:
            raise RuntimeError("batchtopk broke at step 3")
        step(self, *args)

    monkeypatch.setattr(SAETrainer, "train_on", failing)
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="batchtopk broke at step 3"):
        train_sweep(sweep_cfg(synthetic, tmp_path / "sweep", 2))
    assert torch.get_num_threads() == before


def test_sweep_config_errors_name_the_member_and_key(tmp_path: Path):
    base: dict[str, Any] = {"activations": "a", "common": {"d_sae": 16, "batch_size": 32}}
    with pytest.raises(ConfigError, match=r"s.yaml: saes.1.k: 40 is larger than d_sae \(16\)"):
        validate_config(
            SweepConfig,
            base | {"saes": [{"architecture": "relu"}, {"architecture": "topk", "k": 40}]},
            "s.yaml",
        )
    with pytest.raises(ConfigError, match=r"saes.1.batch_size: 64 differs from 32 .*set them under common"):
        validate_config(SweepConfig, base | {"saes": [{}, {"batch_size": 64}]}, "s.yaml")
    with pytest.raises(ConfigError, match="saes.0.bogus: unknown key"):
        validate_config(SweepConfig, base | {"saes": [{"bogus": 1}]}, "s.yaml")
    with pytest.raises(ConfigError, match="repeated: a"):
        validate_config(SweepConfig, base | {"saes": [{"name": "a"}, {"name": "a", "lr": 1e-3}]}, "s.yaml")
    for bad in (0, 33, "off", True, 2.5):
        with pytest.raises(
            ConfigError, match=rf"s.yaml: parallel_members: {bad!r} must be 'auto' or a whole"
        ):
            validate_config(SweepConfig, base | {"saes": [{}], "parallel_members": bad}, "s.yaml")
    with pytest.raises(ConfigError, match="saes: .*at least 1"):
        validate_config(SweepConfig, base | {"saes": []}, "s.yaml")
    names = SweepConfig.model_validate(base | {"saes": [{}, {"architecture": "topk", "k": 2}]}).member_names()
    assert names == ["00-relu-16", "01-topk-16"]
    assert isinstance(SweepConfig.model_validate(base | {"saes": [{}]}).members()[0][1], TrainConfig)
