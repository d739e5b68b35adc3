"""SAETrainer: Adam (schedules, gradient clipping), unit-norm decoder, dead-latent tracking, resampling, state."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from services.trainer.resample import resample_dead, step_seed
from shared.config import TrainConfig
from shared.progress import ProgressSink, report
from shared.sae import SAE, LossOutput, LossSettings

log = logging.getLogger(__name__)

DENSE_DENSITY = 0.1
"""A feature firing on more than this fraction of tokens counts as dense."""
INIT_SCALE = 0.1
"""Initial encoder scale relative to W_dec^T (see ``SAETrainer.initialise``)."""
_ACC = ("steps", "tokens", "loss", "mse", "l1", "l0", "rss", "sum_sq")
_SEED_RESAMPLE_POOL, _SEED_RESAMPLE_PICKS, _SEED_CUDA = 1, 2, 3


# ------------------------------------------------------------------------------------------------------ schedules


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate at 0-based ``step``: linear warmup, constant, linear decay to 0 over the last steps."""
    lr = cfg.lr
    if cfg.lr_warmup_steps and step < cfg.lr_warmup_steps:
        lr *= (step + 1) / cfg.lr_warmup_steps
    decay_start = cfg.n_steps - cfg.lr_decay_steps
    if cfg.lr_decay_steps and step >= decay_start:
        lr *= (cfg.n_steps - step) / cfg.lr_decay_steps
    return lr


def l1_at(step: int, cfg: TrainConfig) -> float:
    """L1 coefficient at 0-based ``step``: linear warmup from 0 over ``l1_warmup_steps``."""
    if cfg.l1_warmup_steps and step < cfg.l1_warmup_steps:
        return cfg.l1_coefficient * (step + 1) / cfg.l1_warmup_steps
    return cfg.l1_coefficient


def l0_at(step: int, cfg: TrainConfig) -> float:
    """JumpReLU's L0 coefficient at 0-based ``step``: linear warmup from 0 over ``l0_warmup_steps``."""
    if cfg.l0_warmup_steps and step < cfg.l0_warmup_steps:
        return cfg.l0_coefficient * (step + 1) / cfg.l0_warmup_steps
    return cfg.l0_coefficient


# ------------------------------------------------------------------------------------------------ initialisation


def estimate_input_scale(sample: Tensor) -> float:
    """Factor that makes the mean activation norm sqrt(d_in) (SAELens ``expected_average_only_in``)."""
    mean_norm = float(sample.float().norm(dim=-1).mean())
    if not mean_norm > 0:
        raise ValueError("input normalisation: the activation sample has zero norm")
    return math.sqrt(sample.shape[-1]) / mean_norm


def geometric_median(points: Tensor, max_iter: int = 100, tol: float = 1e-6) -> Tensor:
    """Weiszfeld's algorithm: the point minimising the sum of Euclidean distances to ``points`` [n, d]."""
    points = points.double()
    median = points.mean(0)
    for _ in range(max_iter):
        dist = (points - median).norm(dim=1).clamp_min(1e-12)
        weights = 1.0 / dist
        new = (weights[:, None] * points).sum(0) / weights.sum()
        moved = float((new - median).norm())
        median = new
        if moved <= tol * max(float(median.norm()), 1e-12):
            break
    return median.float()


# ------------------------------------------------------------------------------------------ decoder constraint


@torch.no_grad()
def remove_parallel_grad(W_dec: torch.nn.Parameter) -> None:
    """Drop the gradient component parallel to each (unit-norm) decoder row."""
    if W_dec.grad is not None:
        W_dec.grad -= (W_dec.grad * W_dec).sum(1, keepdim=True) * W_dec


@torch.no_grad()
def normalise_rows(W_dec: torch.nn.Parameter) -> None:
    W_dec.div_(W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8))


# ---------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ScaledBatch:
    """A batch as a step uses it: on the device, times the input scale, and the float64 statistics the tracker
    takes of it. The same for every sweep member of one input scale, so a sweep makes it once per step."""

    scale: float
    device: torch.device
    x: Tensor
    column_sums: Tensor
    sum_sq: Tensor

    @classmethod
    @torch.no_grad()
    def of(cls, batch: Tensor, scale: float, device: torch.device) -> ScaledBatch:
        """The statistics are accumulated in float64 inside the reductions (no float64 copy of the batch: the
        copies cost ~15 % of a small CPU step)."""
        x = batch.to(device, non_blocking=True) * scale
        return cls(scale, device, x, x.sum(0, dtype=torch.float64), x.square().sum(dtype=torch.float64))


# ---------------------------------------------------------------------------------------------------- trainer


class SAETrainer:
    """Trains ``sae`` on ``batches`` (raw activations [B, d_in]); storage, metrics, progress are injected."""

    def __init__(
        self,
        sae: SAE,
        cfg: TrainConfig,
        batches: Iterator[Tensor],
        *,
        device: torch.device | str = "cpu",
        checkpoint: Callable[[SAETrainer], object] | None = None,
        on_metrics: Callable[[dict[str, Any]], None] | None = None,
        progress: ProgressSink | None = None,
        should_stop: Callable[[], bool] | None = None,
        resample_inputs: Callable[[int, int], Tensor] | None = None,
    ) -> None:
        """``resample_inputs(n, seed)`` gives ``n`` raw training tokens drawn with ``seed`` (resampling's pool);
        required when ``cfg.resample_frequency`` is set."""
        if cfg.resample_frequency and resample_inputs is None:
            raise ValueError(
                "resample_frequency: resampling needs resample_inputs, a source of training tokens"
            )
        self.cfg = cfg
        self.device = torch.device(device)
        self.sae = sae.to(self.device)
        self.batches = batches
        self.checkpoint_fn, self.on_metrics, self.progress, self.should_stop = (
            checkpoint,
            on_metrics,
            progress,
            should_stop,
        )
        self.resample_inputs = resample_inputs
        self.opt = torch.optim.Adam(self.sae.parameters(), lr=cfg.lr, betas=cfg.adam_betas, fused=True)
        self.step = 0
        self.input_scale = 1.0
        self.constrain_decoder = not cfg.scale_l1_by_decoder_norm  # Anthropic's April 2024 update drops it
        d_sae = sae.cfg.d_sae
        self.tokens_since_fired = torch.zeros(d_sae, dtype=torch.long, device=self.device)
        self.window_fires = torch.zeros(d_sae, dtype=torch.long, device=self.device)
        self.acc = torch.zeros(len(_ACC), dtype=torch.float64, device=self.device)
        self.sum_x = torch.zeros(sae.cfg.d_in, dtype=torch.float64, device=self.device)
        self.last_metrics: dict[str, Any] = {}
        self._clock = time.perf_counter()
        self._last_checkpoint = time.monotonic()

    # ---------------------------------------------------------------------------------------------- setup

    @torch.no_grad()
    def initialise(self, sample: Tensor, median: Tensor | None = None) -> None:
        """Fresh run: start the encoder small, estimate the input scale, b_dec = geometric median of the sample.

        The SAE starts with unit-norm decoder rows and W_enc = W_dec^T; at that scale thousands of ReLU features
        fire at once and the first reconstructions are several times the input. So the encoder starts at
        INIT_SCALE x W_dec^T (with a unit-norm decoder), or, when the decoder is not constrained (L1 scaled by
        decoder norm), both start at INIT_SCALE (Anthropic's April 2024 recipe, SAELens's decoder_init_norm).
        ``median``: the geometric median of the scaled sample when already computed (a sweep's members share it).
        """
        sae = self.sae
        if self.constrain_decoder:
            sae.W_enc.copy_(INIT_SCALE * sae.W_dec.T)
        else:
            sae.W_dec.mul_(INIT_SCALE / sae.W_dec.norm(dim=1, keepdim=True))
            sae.W_enc.copy_(sae.W_dec.T)
        if self.cfg.normalise_activations == "expected_norm":
            self.input_scale = estimate_input_scale(sample)
        if median is None:
            median = geometric_median(sample.float() * self.input_scale)
        self.sae.b_dec.copy_(median.to(self.device))
        self.sae.init_training(self._loss_settings())
        log.info("input scale %.4g, |b_dec| %.4g", self.input_scale, float(self.sae.b_dec.norm()))

    # ---------------------------------------------------------------------------------------------- loop

    def fit(self) -> bool:
        """Train until ``n_steps`` (True) or until ``should_stop`` says so (False, after a checkpoint)."""
        self._clock = time.perf_counter()
        self._last_checkpoint = time.monotonic()
        while self.step < self.cfg.n_steps:
            if self.should_stop is not None and self.should_stop():
                self._checkpoint()
                return False
            self.train_on(next(self.batches))
        return True

    def train_on(self, batch: Tensor, inputs: ScaledBatch | None = None) -> None:
        """One step on ``batch`` with its bookkeeping (tracking, resampling, metrics, checkpoint, progress); a
        sweep (``services.trainer.sweep``) calls it on every member with the same batch, and with ``inputs``
        (``ScaledBatch.of(batch, scale, device)``, made once for the members of one input scale: the very
        tensors this step would compute itself)."""
        if inputs is None or inputs.scale != self.input_scale or inputs.device != self.device:
            inputs = ScaledBatch.of(batch, self.input_scale, self.device)
        x, out = self._train_step(inputs.x)
        self._track(inputs, out)
        self._maybe_resample()
        self._maybe_log()
        self._maybe_checkpoint()
        report(self.progress, self.step, self.cfg.n_steps, self._progress_message())

    def start_clock(self) -> None:
        """Start the throughput clock of the first metrics window (``fit`` does it itself)."""
        self._clock = time.perf_counter()

    def _train_step(self, x: Tensor) -> tuple[Tensor, LossOutput]:
        for group in self.opt.param_groups:
            group["lr"] = lr_at(self.step, self.cfg)
        settings = self._loss_settings()
        with self._autocast():
            out = self.sae.training_loss(x, settings)
        self.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        if self.constrain_decoder:
            remove_parallel_grad(self.sae.W_dec)
        if self.cfg.max_grad_norm is not None:  # SAELens's order: backward, clip, step
            torch.nn.utils.clip_grad_norm_(self.sae.parameters(), self.cfg.max_grad_norm)
        self.opt.step()
        if self.constrain_decoder:
            normalise_rows(self.sae.W_dec)
        self.sae.after_step(out, settings)
        self.step += 1
        return x, out

    def _loss_settings(self) -> LossSettings:
        cfg = self.cfg
        dead = None
        if self.sae.uses_dead_mask:
            dead = self.dead_mask()
        return LossSettings(
            step=self.step,
            l1_coefficient=l1_at(self.step, cfg),
            scale_l1_by_decoder_norm=cfg.scale_l1_by_decoder_norm,
            aux_k=cfg.aux_k,
            aux_k_coefficient=cfg.aux_k_coefficient,
            dead_mask=dead,
            l0_coefficient=l0_at(self.step, cfg),
            jumprelu_bandwidth=cfg.jumprelu_bandwidth,
            jumprelu_init_threshold=cfg.jumprelu_init_threshold,
            jumprelu_sparsity_loss=cfg.jumprelu_sparsity_loss,
            jumprelu_tanh_scale=cfg.jumprelu_tanh_scale,
            pre_act_loss_coefficient=cfg.pre_act_loss_coefficient,
            topk_threshold_lr=cfg.topk_threshold_lr,
            matryoshka_widths=cfg.matryoshka_levels() if cfg.architecture == "matryoshka_batchtopk" else (),
        )

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.cfg.autocast_bf16 and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ---------------------------------------------------------------------------------------------- tracking

    @torch.no_grad()
    def _track(self, inputs: ScaledBatch, out: LossOutput) -> None:
        n = inputs.x.shape[0]
        fired = out.fire_counts > 0
        self.tokens_since_fired += n
        self.tokens_since_fired[fired] = 0
        self.window_fires += out.fire_counts
        rss = (inputs.x - out.recon.detach().to(inputs.x.dtype)).square().sum(dtype=torch.float64)
        self.sum_x += inputs.column_sums
        values = (1, n, out.loss.detach(), out.mse, out.l1, out.l0, rss, inputs.sum_sq)
        self.acc += torch.stack([torch.as_tensor(v, dtype=torch.float64, device=self.device) for v in values])

    def dead_mask(self) -> Tensor:
        """[d_sae] bool: latents dead by the one training definition, more than ``dead_feature_threshold`` tokens
        since they last fired (OpenAI's and sparsify's rule). Used by resampling, AuxK and ``dead_fraction``."""
        return self.tokens_since_fired > self.cfg.dead_feature_threshold

    @torch.no_grad()
    def _maybe_resample(self) -> None:
        if self.step not in self.cfg.resampling_steps():
            return
        dead = self.dead_mask().nonzero().flatten()
        if not len(dead):
            return
        assert self.resample_inputs is not None  # checked in __init__
        seed = step_seed(self.cfg.seed, self.step, _SEED_RESAMPLE_POOL)
        pool = self.resample_inputs(self.cfg.resample_pool_tokens, seed).to(self.device) * self.input_scale
        picks = torch.Generator().manual_seed(step_seed(self.cfg.seed, self.step, _SEED_RESAMPLE_PICKS))
        done = resample_dead(self.sae, self.opt, dead, pool, picks)
        self.tokens_since_fired[done] = 0
        log.info("step %d: resampled %d dead latents from %d pool tokens", self.step, len(done), len(pool))

    def _maybe_log(self) -> None:
        if self.step % self.cfg.log_every == 0 or self.step == self.cfg.n_steps:
            self.last_metrics = self.collect_metrics()
            log.info("step %d %s", self.step, self.last_metrics)
            if self.on_metrics is not None:
                self.on_metrics(self.last_metrics)

    def collect_metrics(self) -> dict[str, Any]:
        """One metrics row over the window since the last log (then reset): loss/mse/l1/l0 are step averages on
        the normalised inputs (mse summed over d_in); explained_variance = 1 - RSS/TSS pooled over the window's
        tokens (TSS around the window's mean, float64); dead_fraction is the tracker's (latents dead by
        ``dead_mask``: more than dead_feature_threshold tokens since they last fired); silent_in_window_fraction
        the share that fired on no token of this window (a short-window count, not "dead"); dense_fraction the
        share firing on more than DENSE_DENSITY of the window's tokens; lr and l1_coefficient are those of the
        last step."""
        acc = dict(zip(_ACC, self.acc.tolist(), strict=True))
        steps, tokens = max(acc["steps"], 1.0), max(acc["tokens"], 1.0)
        tss = acc["sum_sq"] - float(self.sum_x.pow(2).sum()) / tokens
        density = self.window_fires.double() / tokens
        elapsed = time.perf_counter() - self._clock
        metrics = {
            "step": self.step,
            "loss": acc["loss"] / steps,
            "mse": acc["mse"] / steps,
            "l1": acc["l1"] / steps,
            "l0": acc["l0"] / steps,
            "explained_variance": 1.0 - acc["rss"] / tss if tss > 0 else float("nan"),
            "dead_fraction": float(self.dead_mask().double().mean()),
            "silent_in_window_fraction": float((self.window_fires == 0).double().mean()),
            "dense_fraction": float((density > DENSE_DENSITY).double().mean()),
            "lr": lr_at(max(self.step - 1, 0), self.cfg),
            "l1_coefficient": l1_at(max(self.step - 1, 0), self.cfg),
            "tokens_per_s": acc["tokens"] / elapsed if elapsed > 0 else float("nan"),
            "tokens": self.step * self.cfg.batch_size,
        }
        self.acc.zero_()
        self.sum_x.zero_()
        self.window_fires.zero_()
        self._clock = time.perf_counter()
        return metrics

    def _progress_message(self) -> str:
        m = self.last_metrics
        return f"loss {m['loss']:.4g} EV {m['explained_variance']:.3f} L0 {m['l0']:.1f}" if m else ""

    # ---------------------------------------------------------------------------------------------- state

    def _maybe_checkpoint(self) -> None:
        """Checkpoint every ``checkpoint_steps`` steps, or once ``checkpoint_minutes`` passed since the last one."""
        if self.step >= self.cfg.n_steps:
            return  # the final checkpoint is written by the caller, after the loop
        every = self.cfg.checkpoint_steps
        minutes = self.cfg.checkpoint_minutes
        due_by_steps = bool(every) and self.step % every == 0
        due_by_time = bool(minutes) and time.monotonic() - self._last_checkpoint >= 60 * minutes
        if due_by_steps or due_by_time:
            self._checkpoint()

    def _checkpoint(self) -> None:
        self._last_checkpoint = time.monotonic()
        if self.checkpoint_fn is not None:
            self.checkpoint_fn(self)

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """(tensors, JSON-able info) capturing everything the rest of training depends on."""
        names = [name for name, _ in self.sae.named_parameters()]
        opt = self.opt.state_dict()
        tensors = {f"sae.{n}": p.detach() for n, p in self.sae.named_parameters()}
        tensors |= {f"sae.{n}": b for n, b in self.sae.named_buffers()}  # e.g. BatchTopK's threshold estimate
        for i, state in opt["state"].items():
            for key, value in state.items():
                tensors[f"optim.{names[i]}.{key}"] = value
        tensors |= {
            "tracker.tokens_since_fired": self.tokens_since_fired,
            "tracker.window_fires": self.window_fires,
            "tracker.acc": self.acc,
            "tracker.sum_x": self.sum_x,
        } | rng_state(self.device)
        info = {"step": self.step, "input_scale": self.input_scale, "param_groups": opt["param_groups"]}
        return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, info

    def load_state_dict(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        names = [name for name, _ in self.sae.named_parameters()]
        with torch.no_grad():
            for n, p in [*self.sae.named_parameters(), *self.sae.named_buffers()]:
                p.copy_(tensors[f"sae.{n}"])
        state: dict[int, dict[str, Tensor]] = {}
        for i, n in enumerate(names):
            keys = {k.split(".", 2)[2] for k in tensors if k.startswith(f"optim.{n}.")}
            if keys:
                state[i] = {k: tensors[f"optim.{n}.{k}"] for k in keys}
        self.opt.load_state_dict({"state": state, "param_groups": info["param_groups"]})
        self.step, self.input_scale = int(info["step"]), float(info["input_scale"])
        self.tokens_since_fired.copy_(tensors["tracker.tokens_since_fired"])
        if "tracker.sum_x" in tensors:
            self.window_fires.copy_(tensors["tracker.window_fires"])
            self.acc.copy_(tensors["tracker.acc"])
            self.sum_x.copy_(tensors["tracker.sum_x"])
        else:  # an older checkpoint format: its window accumulators mean something else
            log.warning("checkpoint without tracker.sum_x (older format): the first metrics window restarts")
        restore_rng(tensors, self.device, step_seed(self.cfg.seed, self.step, _SEED_CUDA))


# ---------------------------------------------------------------------------------------------------- RNG state


def rng_state(device: torch.device) -> dict[str, Tensor]:
    """The global RNG states training runs under: the CPU's always, the training GPU's on CUDA."""
    state = {"rng.torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["rng.cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(tensors: dict[str, Tensor], device: torch.device, cuda_seed: int) -> None:
    """Restore the RNG states a checkpoint saved, each only on the device kind it belongs to: the CPU state always;
    a CUDA state only when training now runs on CUDA (a CPU run ignores it, logged); a CUDA run resumed from a CPU
    checkpoint re-seeds CUDA with ``cuda_seed`` (logged). Training itself draws nothing from these (resampling
    seeds its own generators from the step), so a device change never changes the trajectory's randomness."""
    torch.set_rng_state(tensors["rng.torch"])
    saved_cuda = tensors.get("rng.cuda")
    if device.type == "cuda":
        if saved_cuda is not None:
            torch.cuda.set_rng_state(saved_cuda, device)
        else:
            torch.cuda.manual_seed(cuda_seed)
            log.warning("checkpoint saved on the CPU: CUDA RNG re-seeded with %d", cuda_seed)
    elif saved_cuda is not None:
        log.warning("checkpoint saved on CUDA, resumed on %s: its CUDA RNG state is not restored", device)
