"""Dead-latent resampling (Anthropic, Towards Monosemanticity): point dead latents at inputs the SAE reconstructs badly.

At each scheduled step (``TrainConfig.resampling_steps``: every ``resample_frequency`` steps up to
``resample_last_step``, always before LR decay), for the latents that are dead by the tracker's definition:

1. take a pool of ``resample_pool_tokens`` training tokens (drawn from the whole training split with a seed derived
   from the step, so a resumed run draws the same pool) and compute each token's squared reconstruction error
   ``l_n = ||x_n - x_hat_n||^2``;
2. draw one input per dead latent with probability proportional to ``l_n^2``, without replacement (no two latents
   get the same input);
3. decoder row = the input centred on ``b_dec``, unit norm; encoder column = the same direction scaled to 0.2 x the
   mean encoder-column norm of the live latents; encoder bias 0;
4. Adam's moment estimates (``exp_avg``, ``exp_avg_sq``) of those rows, columns and biases are zeroed.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import Tensor

from shared.sae import SAE

log = logging.getLogger(__name__)

ENCODER_SCALE = 0.2
"""Resampled encoder columns get this fraction of the mean live encoder-column norm (Anthropic's recipe)."""
LOSS_CHUNK = 2048
"""Pool tokens encoded at once when computing the per-token losses."""


def step_seed(seed: int, step: int, purpose: int) -> int:
    """A seed derived from (run seed, step, purpose): the same on every device and after any resume."""
    return int(np.random.SeedSequence([seed, step, purpose]).generate_state(1)[0])


@torch.no_grad()
def squared_errors(sae: SAE, pool: Tensor) -> Tensor:
    """``||x_n - sae(x_n)||^2`` per token of ``pool [N, d_in]``, as float64 on the CPU."""
    parts = []
    for start in range(0, len(pool), LOSS_CHUNK):
        x = pool[start : start + LOSS_CHUNK]
        parts.append((x - sae(x)).double().pow(2).sum(-1).cpu())
    return torch.cat(parts)


@torch.no_grad()
def resample_dead(
    sae: SAE, opt: torch.optim.Optimizer, dead: Tensor, pool: Tensor, generator: torch.Generator
) -> Tensor:
    """Re-initialise the ``dead`` latents (indices) towards inputs of ``pool [N, d_in]`` (on the SAE's scale and
    device) drawn with probability ~ loss^2 without replacement; returns the latents actually resampled (fewer than
    ``dead`` only when the pool has fewer inputs with a nonzero loss). ``generator`` is a CPU generator."""
    weights = squared_errors(sae, pool).pow(2)
    available = int((weights > 0).sum())
    n = min(len(dead), available)
    if n < len(dead):
        log.warning(
            "resampling: only %d of %d pool tokens have a nonzero loss; %d dead latents stay as they are",
            available,
            len(pool),
            len(dead) - n,
        )
    if n == 0:
        return dead[:0]
    dead = dead[:n]
    picks = torch.multinomial(weights, n, replacement=False, generator=generator).to(pool.device)
    directions = pool[picks] - sae.b_dec
    directions /= directions.norm(dim=1, keepdim=True).clamp_min(1e-8)
    alive = torch.ones(sae.cfg.d_sae, dtype=torch.bool, device=sae.W_enc.device)
    alive[dead] = False
    enc_norm = sae.W_enc[:, alive].norm(dim=0).mean() if alive.any() else torch.ones((), device=alive.device)
    sae.W_dec[dead] = directions.to(sae.W_dec.dtype)
    sae.W_enc[:, dead] = (directions * (ENCODER_SCALE * enc_norm)).T.to(sae.W_enc.dtype)
    sae.b_enc[dead] = 0.0
    reset_adam_rows(opt, sae, dead)
    return dead


def reset_adam_rows(opt: torch.optim.Optimizer, sae: SAE, latents: Tensor) -> None:
    """Zero Adam's ``exp_avg`` and ``exp_avg_sq`` for the decoder rows, encoder columns and encoder biases of
    ``latents`` (stale moments would otherwise push the fresh weights straight back)."""
    for param, index in (
        (sae.W_dec, (latents,)),
        (sae.W_enc, (slice(None), latents)),
        (sae.b_enc, (latents,)),
    ):
        state = opt.state.get(param, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in state:
                state[key][index] = 0.0
