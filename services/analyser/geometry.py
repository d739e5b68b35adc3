"""Decoder geometry: nearest features by decoder cosine and the logit lens of each decoder direction (chunked)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Unembed = Callable[[Tensor], Tensor]
"""Maps residual directions ``[n, d]`` to logits ``[n, V]`` (``LanguageModel.unembed``)."""


@torch.inference_mode()
def decoder_neighbours(w_dec: Tensor, n: int, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """Top ``n`` other features by cosine of decoder rows: ``(indices [d_sae, n'], cosines [d_sae, n'])``.

    ``n' = min(n, d_sae - 1)``; a feature is never its own neighbour. Rows with zero norm have cosine 0 to all."""
    d_sae = w_dec.shape[0]
    n = min(n, d_sae - 1)
    unit = w_dec.float()
    unit = unit / unit.norm(dim=1, keepdim=True).clamp(min=1e-12)
    idx = torch.empty((d_sae, n), dtype=torch.long, device=w_dec.device)
    cos = torch.empty((d_sae, n), device=w_dec.device)
    for start in range(0, d_sae, chunk):
        stop = min(start + chunk, d_sae)
        sims = unit[start:stop] @ unit.T
        rows = torch.arange(stop - start, device=w_dec.device)
        sims[rows, rows + start] = float("-inf")
        top = sims.topk(n, dim=1)
        idx[start:stop], cos[start:stop] = top.indices, top.values
    return idx, cos


@torch.inference_mode()
def logit_lens(unembed: Unembed, w_dec: Tensor, n: int, chunk: int = 256) -> tuple[Tensor, ...]:
    """Top and bottom ``n`` logits of each decoder row through ``unembed``.

    Returns ``(top_ids, top_logits, bottom_ids, bottom_logits)``, each ``[d_sae, n]`` on the CPU; top sorted
    highest first, bottom lowest first."""
    parts: list[tuple[Tensor, ...]] = []
    for start in range(0, w_dec.shape[0], chunk):
        logits = unembed(w_dec[start : start + chunk]).float()
        k = min(n, logits.shape[1])
        top = logits.topk(k, dim=1)
        bottom = logits.topk(k, dim=1, largest=False)
        parts.append((top.indices.cpu(), top.values.cpu(), bottom.indices.cpu(), bottom.values.cpu()))
    return tuple(torch.cat([p[i] for p in parts]) for i in range(4))
