"""The one exclusion rule: BOS ids at any position, position 0 with prepend_bos, massive norms; read from an SAE."""

from __future__ import annotations

import numpy as np

from shared.exclusion import Exclusion
from shared.shards import ActivationMeta

BOS = 50256


def contexts() -> tuple[np.ndarray, np.ndarray]:
    tokens = np.array([[BOS, 5, 6, BOS, 7], [BOS, 8, BOS, 9, 10]], dtype=np.int32)  # separators mid-context
    acts = np.ones((2, 5, 3), dtype=np.float32)
    acts[1, 3] = 100.0  # a massive-norm token
    return acts, tokens


def meta(prepend_bos: bool = True) -> ActivationMeta:
    return ActivationMeta(model="m", hook="blocks.0.hook_resid_pre", layer=0, hook_kind="resid_pre", d_in=3,
                          context_length=5, shard_contexts=2, bos_token_id=BOS, prepend_bos=prepend_bos)  # fmt: skip


def test_every_bos_position_and_every_massive_norm_is_left_out():
    acts, tokens = contexts()
    keep = Exclusion(True, BOS, True, norm_threshold=10.0).keep_mask(acts, tokens)
    assert keep.tolist() == [[False, True, True, False, True], [False, True, False, False, True]]


def test_switches():
    acts, tokens = contexts()
    assert Exclusion(False, BOS, True, None).keep_mask(acts, tokens).all()
    no_bos_id = Exclusion(True, None, True, None).keep_mask(acts, tokens)
    assert no_bos_id.tolist() == [[False, True, True, True, True], [False, True, True, True, True]]


def test_for_sae_reads_what_training_left_out_and_an_override():
    recorded = {"exclude_bos": False, "norm_threshold": 10.0}
    exclusion = Exclusion.for_sae(recorded, meta())
    assert exclusion == Exclusion(False, BOS, True, 10.0)
    assert Exclusion.for_sae(recorded, meta(), exclude_bos=True).exclude_bos
    imported = Exclusion.for_sae({}, meta(prepend_bos=False))
    assert imported == Exclusion(True, BOS, False, None), "no record: BOS out, every norm kept"
