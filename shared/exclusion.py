"""Which token positions saelab leaves out of training, evaluation and analysis: BOS ids anywhere, massive norms.

One rule, applied by the trainer, the evaluator and the analyser alike (they stay in the shards): a position is
left out when its token is the BOS id (at any position: for GPT-2 BOS = EOS, so every document separator inside a
packed context is one), or, with ``prepend_bos``, when it is position 0; and when its activation norm exceeds
``norm_threshold`` (attention sinks, ``exclude_norm_multiple`` x the training split's median norm). A trained SAE
records what its training left out in ``cfg.json`` (``saelab.exclude_bos``, ``saelab.norm_threshold``), so
evaluation and analysis read it back with :meth:`Exclusion.for_sae`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from shared.shards import ActivationMeta


@dataclass(frozen=True)
class Exclusion:
    """Which token positions are left out of training, metrics and feature statistics."""

    exclude_bos: bool
    """Leave out every position holding the BOS id (and position 0 when contexts start with BOS)."""
    bos_token_id: int | None
    """The dataset's BOS id (``meta.json``); None when the tokenizer has none."""
    prepend_bos: bool
    """Whether every context starts with BOS (``meta.json``)."""
    norm_threshold: float | None
    """Leave out positions whose activation norm exceeds this (None = keep every norm)."""

    @classmethod
    def for_sae(
        cls, extra: dict[str, Any], meta: ActivationMeta, exclude_bos: bool | None = None
    ) -> Exclusion:
        """What an SAE's training left out, from its cfg.json ``extra`` (``exclude_bos``, ``norm_threshold``) and the
        dataset's ``meta``. ``exclude_bos`` overrides the recorded choice; an SAE without a record (imported from
        elsewhere) leaves out BOS positions and no norms."""
        if exclude_bos is None:
            exclude_bos = bool(extra.get("exclude_bos", True))
        threshold = extra.get("norm_threshold")
        return cls(
            exclude_bos=exclude_bos,
            bos_token_id=meta.bos_token_id,
            prepend_bos=bool(meta.prepend_bos),
            norm_threshold=None if threshold is None else float(threshold),
        )

    def keep_mask(self, acts: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """``[..., T]`` bool for ``acts [..., T, d]`` and ``tokens [..., T]``: True for positions to use."""
        keep = np.ones(tokens.shape, dtype=bool)
        if self.exclude_bos:
            if self.prepend_bos:
                keep[..., 0] = False
            if self.bos_token_id is not None:
                keep &= tokens != self.bos_token_id
        if self.norm_threshold is not None:
            keep &= activation_norms(acts) <= self.norm_threshold
        return keep


def activation_norms(acts: np.ndarray) -> np.ndarray:
    """L2 norm of each activation vector (last axis), computed in float32."""
    return np.linalg.norm(acts.astype(np.float32, copy=False), axis=-1)
