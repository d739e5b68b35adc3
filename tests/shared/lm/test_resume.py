"""Rerunning from a hook on (``shared.lm.resume``), every family: a forward that skips the blocks before the hook
gives the logits of the full forward, and really skips them."""

from __future__ import annotations

import logging

import pytest
import torch
from support.tiny_lms import computing_blocks, ids_for

from shared.lm import LanguageModel
from shared.lm.resume import BlockPrefix

HOOKS = (
    "blocks.2.hook_resid_pre",
    "blocks.1.hook_resid_post",
    "blocks.2.hook_attn_out",
    "blocks.2.hook_mlp_out",
)
SKIPPED = 2
"""Blocks each of HOOKS leaves unchanged: 0 and 1 (for resid_post at 1, block 1 itself too)."""
T = 12


def shift_from(start: int, offset: int, direction: torch.Tensor):  # noqa: ANN201 - a HookFn
    """A patch adding ``direction`` at the positions >= ``start`` of a forward whose first position is ``offset``."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        keep = (torch.arange(offset, offset + x.shape[1]) >= start).to(x.dtype)[None, :, None]
        return x + keep * direction.to(x.dtype)

    return fn


def croppable(cache: object) -> bool:
    layers = getattr(cache, "layers", None) or []
    return type(cache).__name__ == "DynamicCache" and all(
        type(la).__name__ == "DynamicLayer" for la in layers
    )


@pytest.mark.parametrize("hook", HOOKS)
@torch.inference_mode()
def test_replaying_the_blocks_before_the_hook_gives_the_full_forwards_logits(
    family_lm: LanguageModel, hook: str
) -> None:
    lm = family_lm
    if lm.hook_point(hook).kind not in lm.layout.kinds:
        pytest.skip(f"{lm.family} has no {hook}")
    ids = ids_for(lm, batch=1, tokens=T, seed=3)
    direction = torch.randn(lm.d_model, generator=torch.Generator().manual_seed(4))
    prefix = BlockPrefix(lm, hook)
    assert prefix.count == SKIPPED
    with prefix.recording():
        cache = lm.model(input_ids=ids, use_cache=True).cache
    for start in (0, 5, T - 1):
        with lm.patching(hook, shift_from(start, 0, direction)):
            full = lm.model(input_ids=ids, use_cache=False).logits[0, -1]
        kwargs: dict[str, object] = {}
        offset = 0
        if start and croppable(cache):
            cache.crop(start - cache.get_seq_length())
            kwargs, offset = {"cache": cache, "use_cache": True}, start
        with (
            computing_blocks(lm) as ran,
            lm.patching(hook, shift_from(start, offset, direction)),
            prefix.replaying(offset) as skips,
        ):
            got = lm.model(input_ids=ids[:, offset:], **kwargs).logits[0, -1]
        assert skips
        assert ran == list(range(prefix.count, lm.n_layers))  # the blocks before the hook never ran
        torch.testing.assert_close(got, full, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(got, lm.model(input_ids=ids).logits[0, -1], atol=1e-4)  # the patch mattered
        if kwargs:  # back to the clean cache of the whole sequence for the next start
            cache = lm.model(input_ids=ids, use_cache=True).cache
    assert all("forward" not in vars(block) for block in lm.blocks)  # the blocks' own forward is back


@torch.inference_mode()
def test_without_a_recording_or_with_nothing_to_skip_every_block_runs(
    family_lm: LanguageModel, caplog: pytest.LogCaptureFixture
) -> None:
    lm = family_lm
    ids = ids_for(lm, batch=1, tokens=T, seed=3)
    clean = lm.model(input_ids=ids).logits[0, -1]
    for prefix in (BlockPrefix(lm, "blocks.2.hook_resid_pre"), BlockPrefix(lm, "blocks.0.hook_resid_pre")):
        with (
            caplog.at_level(logging.DEBUG, "shared.lm.resume"),
            computing_blocks(lm) as ran,
            prefix.replaying(0) as skips,
        ):
            got = lm.model(input_ids=ids).logits[0, -1]
        assert not skips and ran == list(range(lm.n_layers))
        torch.testing.assert_close(got, clean, rtol=0, atol=0)
    assert "every block reruns: nothing was recorded" in caplog.text


@torch.inference_mode()
def test_a_replay_of_another_length_is_refused(family_lm: LanguageModel) -> None:
    lm = family_lm
    ids = ids_for(lm, batch=1, tokens=T, seed=3)
    prefix = BlockPrefix(lm, "blocks.1.hook_resid_pre")
    with prefix.recording():
        lm.model(input_ids=ids)
    with (
        pytest.raises(
            ValueError, match=r"start: must be between 0 and 11 \(the recorded positions\), got 12"
        ),
        prefix.replaying(T),
    ):
        pass
    with (
        pytest.raises(
            RuntimeError, match=r"replay from position 2: a block got input \(1, 12, 64\), expected"
        ),
        prefix.replaying(2),
    ):
        lm.model(input_ids=ids)
