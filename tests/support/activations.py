"""Activation sets written from in-memory arrays for tests: the residual stream before a block, BOS-first contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared.hooknames import HookPoint
from shared.shards import ActivationSet, write_activation_set


def write_resid_set(
    path: str | Path,
    acts: np.ndarray,
    tokens: np.ndarray,
    shard_contexts: int,
    *,
    model: str,
    layer: int,
    bos_token_id: int,
    **meta: Any,
) -> ActivationSet:
    """``acts`` [N, T, d] and ``tokens`` [N, T] as a set read at ``blocks.<layer>.hook_resid_pre`` of ``model``, each
    context starting with ``bos_token_id``; ``meta``: further ActivationMeta fields (corpus, complete, ...)."""
    return write_activation_set(
        path,
        acts,
        tokens,
        shard_contexts,
        model=model,
        hook=HookPoint(layer, "resid_pre").name,
        layer=layer,
        hook_kind="resid_pre",
        prepend_bos=True,
        bos_token_id=bos_token_id,
        **meta,
    )
