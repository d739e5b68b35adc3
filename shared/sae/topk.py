"""The ``topk`` architecture: keep the k largest pre-activations per token (Gao et al. 2024), with AuxK training."""

from __future__ import annotations

import torch
from torch import Tensor

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum
from shared.sae.sparse import gather_pre_acts, sparse_decode


class TopKSAE(SAE):
    """``f = ReLU(TopK_k(pre_acts))``; decoding gathers the k decoder rows instead of a dense matmul."""

    architecture = "topk"
    uses_dead_mask = True

    @property
    def k(self) -> int:
        assert self.cfg.k is not None, "topk SAE without k"
        return self.cfg.k

    def encode_sparse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(values, indices)`` of the k active features per token, each ``[..., k]``."""
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.cfg.d_in)
        with torch.no_grad():
            pre = self.pre_acts(x2)
            idx = pre.topk(self.k, dim=-1, sorted=False).indices
        vals = gather_pre_acts(
            x2, self.b_dec, self.W_enc, self.b_enc, idx, pre, self.cfg.apply_b_dec_to_input
        )
        return torch.relu(vals).reshape(*lead, self.k), idx.reshape(*lead, self.k)

    def decode_sparse(self, vals: Tensor, idx: Tensor) -> Tensor:
        """Reconstruction ``[..., d_in]`` from the k (value, index) pairs per token."""
        lead = vals.shape[:-1]
        out = sparse_decode(vals.reshape(-1, vals.shape[-1]), idx.reshape(-1, idx.shape[-1]), self.W_dec)
        return (out + self.b_dec).reshape(*lead, self.cfg.d_in)

    def encode(self, x: Tensor) -> Tensor:
        vals, idx = self.encode_sparse(x)
        return torch.zeros(*vals.shape[:-1], self.cfg.d_sae, dtype=vals.dtype, device=vals.device).scatter(
            -1, idx, vals
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.denormalise_output(self.decode_sparse(*self.encode_sparse(x)), x)

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        with torch.no_grad():
            pre = self.pre_acts(x)
            idx = pre.topk(self.k, dim=-1, sorted=False).indices
        vals = torch.relu(self._gather(x, idx, pre))
        recon = sparse_decode(vals, idx, self.W_dec) + self.b_dec
        mse = mse_sum(recon, x)
        aux = auxk_loss(self, x, recon.detach(), pre, settings)
        active = vals.detach() > 0
        counts = torch.bincount(idx[active], minlength=self.cfg.d_sae)
        return LossOutput(
            loss=mse + settings.aux_k_coefficient * aux,
            mse=mse.detach(),
            sparsity=aux.detach(),
            l1=vals.detach().sum(-1).mean(),
            l0=active.sum(-1, dtype=torch.float32).mean(),
            recon=recon.detach(),
            fire_counts=counts,
        )

    def _gather(self, x: Tensor, idx: Tensor, pre: Tensor) -> Tensor:
        return gather_pre_acts(x, self.b_dec, self.W_enc, self.b_enc, idx, pre, self.cfg.apply_b_dec_to_input)


def auxk_loss(sae: SAE, x: Tensor, recon: Tensor, pre: Tensor, settings: LossSettings) -> Tensor:
    """Reconstruct the residual ``x - recon`` with the top ``aux_k`` dead latents, so gradient reaches them (Gao
    et al.); ``pre`` = the batch's encoder pre-activations (no gradient). Shared by the top-k architectures."""
    dead = settings.dead_mask
    n_dead = int(dead.sum()) if dead is not None else 0
    if dead is None or n_dead == 0 or settings.aux_k_coefficient == 0:
        return torch.zeros((), device=x.device)
    requested = settings.aux_k or max(sae.cfg.d_in // 2, 1)
    aux_k = min(requested, n_dead)
    if n_dead <= AUXK_DENSE_DEAD_FACTOR * requested:
        aux_recon = _dead_subset_recon(sae, x, pre, dead, aux_k)
    else:
        with torch.no_grad():
            idx = pre.masked_fill(~dead, float("-inf")).topk(aux_k, dim=-1, sorted=False).indices
        apply = sae.cfg.apply_b_dec_to_input
        vals = torch.relu(gather_pre_acts(x, sae.b_dec, sae.W_enc, sae.b_enc, idx, pre, apply))
        aux_recon = sparse_decode(vals, idx, sae.W_dec)
    scale = min(n_dead / requested, 1.0)
    return scale * mse_sum(aux_recon, x - recon)


AUXK_DENSE_DEAD_FACTOR = 4
"""AuxK decodes through dense products over the dead latents alone while there are at most this many times k_aux
of them (late in training: a few % of d_sae); with more (early, or a wide dictionary) it gathers and decodes
sparsely. The same loss and gradients either way; the dense form avoids the sparse path's index sorts, which
doubled a CPU training step of the default demo (4,096 latents, 1.8 % dead)."""


def _dead_subset_recon(sae: SAE, x: Tensor, pre: Tensor, dead: Tensor, aux_k: int) -> Tensor:
    """The AuxK reconstruction ``[B, d_in]`` from the dead latents' columns only: the top ``aux_k`` of their
    pre-activations per token (chosen without gradient from ``pre``), recomputed with gradient on those columns."""
    cols = dead.nonzero().squeeze(1)
    with torch.no_grad():
        top = pre.index_select(1, cols).topk(aux_k, dim=-1, sorted=False).indices
        chosen = torch.zeros(x.shape[0], cols.numel(), dtype=torch.bool, device=x.device).scatter_(
            1, top, True
        )
    x_in = x - sae.b_dec if sae.cfg.apply_b_dec_to_input else x
    pre_dead = x_in @ sae.W_enc.index_select(1, cols) + sae.b_enc.index_select(0, cols)
    acts = torch.relu(pre_dead) * chosen
    return acts @ sae.W_dec.index_select(0, cols)
