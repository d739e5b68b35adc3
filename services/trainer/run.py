"""``train(cfg)``: one training run in a run directory, with atomic checkpoints, exact resume and final export."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from services.trainer.data import ActivationDataset, BatchIterator, split_segments
from services.trainer.train import SAETrainer
from shared.config import ConfigError, TrainConfig, dump_config, load_config
from shared.devices import resolve_device
from shared.progress import ProgressSink
from shared.sae import SAE, SAEConfig, create_sae, save_sae
from shared.shards import ActivationSet

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "train_config.yaml"
STATE_TENSORS, STATE_INFO = "state.safetensors", "state.json"
KEEP_CHECKPOINTS = 2
INIT_SAMPLE_TOKENS = 16_384
STEP_DIR = re.compile(r"^step-(\d+)$")
_RESUMABLE_CHANGES = {
    "checkpoint_every",
    "checkpoint_minutes",
    "log_every",
    "device",
    "cache_in_ram",
    "wandb_project",
}


def train(
    cfg: TrainConfig,
    progress: ProgressSink | None = None,
    on_metrics: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[Path], None] | None = None,
) -> Path:
    """Train (or resume) the run in ``cfg.output``; returns the run directory (final weights when finished)."""
    run_dir = Path(cfg.output)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, cfg)
    device = resolve_device(cfg.device)
    configure_backends(cfg, device)
    aset = ActivationSet.open(cfg.activations, require_complete=True)
    data = training_data(aset, cfg)
    batches = data.batches(cfg.batch_size, cfg.seed, cfg.shuffle_buffer_tokens)
    torch.manual_seed(cfg.seed)
    sae = create_sae(sae_config(cfg, aset))
    metrics = MetricsLog(run_dir / METRICS_FILE, on_metrics, cfg)
    trainer = SAETrainer(
        sae,
        cfg,
        batches,
        device=device,
        checkpoint=lambda t: save_checkpoint(run_dir, t, batches, on_checkpoint),
        on_metrics=metrics,
        progress=progress,
        should_stop=should_stop,
        resample_inputs=data.draw,
    )
    _resume_or_initialise(run_dir, trainer, batches, data, metrics)
    try:
        finished = trainer.fit()
    finally:
        metrics.close()
    if finished:
        save_checkpoint(run_dir, trainer, batches, on_checkpoint)
        export(trainer, data, run_dir)
    return run_dir


def training_data(aset: ActivationSet, cfg: TrainConfig) -> ActivationDataset:
    """The training split of ``aset`` with the configured exclusions."""
    train_segments, _ = split_segments(aset, cfg.eval_fraction)
    return ActivationDataset(
        aset,
        train_segments,
        exclude_bos=cfg.exclude_bos,
        exclude_norm_multiple=cfg.exclude_norm_multiple,
        cache_in_ram=cfg.cache_in_ram,
    )


def sae_config(cfg: TrainConfig, aset: ActivationSet) -> SAEConfig:
    meta = aset.meta
    return SAEConfig(
        architecture=cfg.architecture,
        d_in=meta.d_in,
        d_sae=cfg.d_sae,
        k=cfg.k,
        hook_name=meta.hook,
        model_name=meta.model,
        model_gguf_file=meta.gguf_file,
        context_size=meta.context_length,
        prepend_bos=meta.prepend_bos,
        activations_path=str(Path(cfg.activations).resolve()),
    )


def configure_backends(cfg: TrainConfig, device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
        torch.backends.cudnn.allow_tf32 = cfg.tf32


def write_config(run_dir: Path, cfg: TrainConfig) -> None:
    """Save train_config.yaml; resuming with settings that change the trajectory is an error naming them."""
    path = run_dir / CONFIG_FILE
    if path.is_file() and latest_checkpoint(run_dir) is not None:
        old = load_config(TrainConfig, path).model_dump()
        changed = sorted(
            k for k, v in cfg.model_dump().items() if old.get(k) != v and k not in _RESUMABLE_CHANGES
        )
        if changed:
            raise ConfigError(
                f"{path}: the run in {run_dir} was started with different {', '.join(changed)}; "
                "resume with the same settings or choose a new output directory"
            )
    dump_config(cfg, path)


# ---------------------------------------------------------------------------------------------------- metrics


class MetricsLog:
    """Appends metric rows to metrics.jsonl (one JSON object per logged step) and forwards them."""

    def __init__(
        self, path: Path, forward: Callable[[dict[str, Any]], None] | None, cfg: TrainConfig
    ) -> None:
        self.path, self.forward = path, forward
        self._wandb = _start_wandb(cfg, path.parent) if cfg.wandb_project else None

    def truncate(self, step: int) -> None:
        """Keep only rows up to ``step`` (a resumed run re-logs the later ones)."""
        if not self.path.is_file():
            return
        rows = [line for line in self.path.read_text().splitlines() if line.strip()]
        kept = [line for line in rows if json.loads(line)["step"] <= step]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, self.path)

    def __call__(self, row: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        if self._wandb is not None:
            self._wandb.log(row, step=row["step"])
        if self.forward is not None:
            self.forward(row)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()


def _start_wandb(cfg: TrainConfig, run_dir: Path) -> Any:
    try:
        import wandb
    except ImportError:
        raise ConfigError("wandb_project: set, but wandb is not installed (pip install wandb)") from None
    return wandb.init(project=cfg.wandb_project, config=cfg.model_dump(), dir=str(run_dir), resume="allow")


# ------------------------------------------------------------------------------------------------ checkpoints


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint directory (``checkpoints/step-N`` holding state.json), or None."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return None
    found = [
        (int(m.group(1)), p)
        for p in root.iterdir()
        if (m := STEP_DIR.match(p.name)) and (p / STATE_INFO).is_file() and (p / STATE_TENSORS).is_file()
    ]
    return max(found)[1] if found else None


def save_checkpoint(
    run_dir: Path, trainer: SAETrainer, batches: BatchIterator, on_checkpoint: Callable[[Path], None] | None
) -> Path:
    root = run_dir / CHECKPOINTS
    final = root / f"step-{trainer.step:08d}"
    if not (final / STATE_INFO).is_file():
        tensors, info = trainer.state_dict()
        info |= {"format": "saelab-checkpoint/1", "data": batches.state_dict()}
        tmp = root / f".tmp-{final.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(tensors, str(tmp / STATE_TENSORS))
        (tmp / STATE_INFO).write_text(json.dumps(info, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        _prune(root)
        log.info("checkpoint %s", final)
    if on_checkpoint is not None:
        on_checkpoint(final)
    return final


def _prune(root: Path) -> None:
    steps = sorted((int(m.group(1)), p) for p in root.iterdir() if (m := STEP_DIR.match(p.name)))
    for _, old in steps[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old)


def _resume_or_initialise(
    run_dir: Path, trainer: SAETrainer, batches: BatchIterator, data: ActivationDataset, metrics: MetricsLog
) -> None:
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        trainer.initialise(data.sample(INIT_SAMPLE_TOKENS, trainer.cfg.seed))
        metrics.path.unlink(missing_ok=True)
        return
    info = json.loads((ckpt / STATE_INFO).read_text())
    trainer.load_state_dict(load_file(str(ckpt / STATE_TENSORS)), info)
    batches.load_state_dict(info["data"])
    metrics.truncate(trainer.step)
    log.info("resumed %s at step %d", run_dir, trainer.step)


# ----------------------------------------------------------------------------------------------------- export


def export(trainer: SAETrainer, data: ActivationDataset, run_dir: Path) -> SAE:
    """Save the final SAE with the input scale folded in (it works on raw activations): sae.safetensors + cfg.json."""
    sae = copy.deepcopy(trainer.sae).to("cpu")
    sae.fold_input_scale(trainer.input_scale)
    cfg = trainer.cfg
    sae.cfg.extra = {
        "input_scale_folded": trainer.input_scale,
        "normalise_activations": cfg.normalise_activations,
        "exclude_bos": cfg.exclude_bos,
        "exclude_norm_multiple": cfg.exclude_norm_multiple,
        "norm_threshold": data.exclusion.norm_threshold,
        "eval_fraction": cfg.eval_fraction,
        "trained_steps": trainer.step,
        "trained_tokens": trainer.step * cfg.batch_size,
    }
    save_sae(sae, run_dir)
    return sae
