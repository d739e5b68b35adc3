"""The intervention hook: at the SAE's hook point, replace x by ``x + dec(f') - dec(f)`` (the SAE's error kept).

``f = sae.encode(x)`` and ``f'`` is ``f`` with each intervention applied (in list order) at its positions; the
difference of the two decodings is mapped back to the raw activation space with the SAE's own
``denormalise_output``, and only the touched features' decoder rows are used. With no intervention (or none at the
positions of a forward) the hook returns None, so the model's logits are exactly the clean ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from shared.interventions.spec import Intervention, check_features


def decoder_delta(sae: Any, x: Tensor, df: Tensor, features: Tensor | None = None) -> Tensor:
    """``denormalise(dec(f')) - denormalise(dec(f))`` for ``df = (f' - f)[..., features]`` on raw inputs ``x``
    (``features`` None: every feature, ``df`` dense; W_dec is used in place, not gathered into a copy)."""
    w = sae.W_dec if features is None else sae.W_dec[features]  # [n, d_in]
    b = sae.b_dec.expand_as(x)
    return sae.denormalise_output(df @ w + b, x) - sae.denormalise_output(b, x)


class InterventionHook:
    """A ``LanguageModel.patching`` function applying ``interventions`` to the batch rows ``rows``.

    It counts positions across forwards (the prompt, then one token per step with a KV cache): make a new hook
    per sequence. ``bos`` says whether the sequence starts with a BOS token, which is position -1 and never
    touched."""

    def __init__(
        self, sae: Any, interventions: Sequence[Intervention], bos: bool, rows: slice | None = None
    ) -> None:
        check_features(list(interventions), int(sae.cfg.d_sae))
        self.sae = sae
        self.interventions = list(interventions)
        self.offset = -int(bos)  # the position of the next forward's first token
        self.rows = rows if rows is not None else slice(None)
        self.features = torch.tensor(
            sorted({iv.feature for iv in self.interventions}), dtype=torch.long, device=sae.W_dec.device
        )

    def __call__(self, x: Tensor) -> Tensor | None:
        first, count = self.offset, x.shape[1]
        self.offset += count
        masks = [(iv, iv.positions.mask(first, count)) for iv in self.interventions]
        masks = [(iv, m) for iv, m in masks if any(m[max(0, -first) :])]
        if not masks:
            return None
        dtype = self.sae.W_dec.dtype
        xs = x[self.rows].to(dtype)
        f = self.sae.encode(xs)[..., self.features]  # [b, T, n]: the touched features only
        new = f.clone()
        for iv, mask in masks:
            sel = torch.tensor(mask, device=x.device) & (
                torch.arange(first, first + count, device=x.device) >= 0
            )
            col = int((self.features == iv.feature).nonzero())
            new[:, sel, col] = iv.new_activation(new[:, sel, col])  # type: ignore[assignment]
        out = x.clone()
        out[self.rows] = x[self.rows] + decoder_delta(self.sae, xs, new - f, self.features).to(x.dtype)
        return out


def last_logits_only(lm: Any) -> dict[str, int]:
    """``{"logits_to_keep": 1}`` when the model's forward takes it (the head then runs on the last position only,
    as ``generate`` does), else nothing."""
    return {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(lm.model.forward).parameters else {}


@torch.inference_mode()
def intervened_logits(
    lm: Any, sae: Any, input_ids: Tensor, interventions: Sequence[Intervention], bos: bool = True
) -> Tensor:
    """Logits [B, T, V] of one forward of ``input_ids`` with ``interventions`` at the SAE's hook (every row)."""
    hook = InterventionHook(sae, interventions, bos)
    return lm.logits_with_replacement(input_ids, sae.cfg.hook_name, hook)
