"""``LanguageModel.patching``: replacement functions at hook points for any forward (generate with a KV cache,
gradients), nesting, thread exclusion and errors, on every family."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from support.tiny_lms import ids_for

from shared.lm import HookError, LanguageModel


def _pre_ln(lm: LanguageModel) -> bool:
    return not (lm.family == "opt" and not lm.model.config.do_layer_norm_before)


def _direction(lm: LanguageModel, scale: float, seed: int = 3) -> torch.Tensor:
    v = torch.randn(lm.d_model, generator=torch.Generator().manual_seed(seed))
    return scale * v / v.norm()


# --------------------------------------------------------------------------------------------------------------
# Where a replacement lands
# --------------------------------------------------------------------------------------------------------------


def test_adding_to_mlp_out_adds_exactly_that_to_resid_post(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    v = _direction(lm, 5.0)
    clean = lm.activations(ids, "blocks.1.hook_resid_post")
    with lm.patching("blocks.1.hook_mlp_out", lambda x: x + v):
        steered = lm.activations(ids, "blocks.1.hook_resid_post")
    if _pre_ln(lm):
        torch.testing.assert_close(steered, clean + v, atol=1e-5, rtol=1e-5)
    else:  # post-LN: the sum is normalised, but it did change
        assert (steered - clean).abs().max() > 1e-3
    torch.testing.assert_close(lm.activations(ids, "blocks.1.hook_resid_post"), clean)  # gone after the block


def test_observers_see_the_tensor_and_change_nothing(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    seen: list[torch.Tensor] = []
    clean = lm.logits_with_replacement(ids, "blocks.2.hook_mlp_in")
    with lm.patching("blocks.2.hook_mlp_in", lambda x: seen.append(x.clone())), torch.inference_mode():
        logits = lm.model(input_ids=ids, use_cache=False).logits
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], lm.activations(ids, "blocks.2.hook_mlp_in"))
    torch.testing.assert_close(logits, clean)


def test_nested_patches_apply_in_entry_order(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    hook = "blocks.0.hook_attn_out"
    clean = lm.activations(ids, hook)
    seen: list[torch.Tensor] = []
    with (
        lm.patching(hook, lambda x: x + 1.0),
        lm.patching(hook, lambda x: x * 2.0),
        lm.patching(hook, seen.append),
        lm.patching("blocks.1.hook_resid_pre", lambda x: None),
    ):
        lm.logits_with_replacement(ids, hook)
    torch.testing.assert_close(seen[0], (clean + 1.0) * 2.0)


def test_reads_inside_a_patch_see_the_replacement(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    with lm.patching("blocks.1.hook_mlp_in", torch.ones_like):
        read = lm.activations_at(ids, ["blocks.1.hook_mlp_in", "blocks.0.hook_resid_post"])
    assert torch.equal(read["blocks.1.hook_mlp_in"], torch.ones(3, 12, 64))
    torch.testing.assert_close(
        read["blocks.0.hook_resid_post"], lm.activations(ids, "blocks.0.hook_resid_post")
    )


# --------------------------------------------------------------------------------------------------------------
# generate with the KV cache
# --------------------------------------------------------------------------------------------------------------


def _generate(lm: LanguageModel, ids: torch.Tensor, use_cache: bool) -> torch.Tensor:
    out = lm.model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=4,
        do_sample=False,
        use_cache=use_cache,
        pad_token_id=lm.eos_token_id,
        output_scores=True,
        return_dict_in_generate=True,
    )
    return torch.stack(out.scores, dim=1)  # [B, new tokens, V]


def test_generate_with_kv_cache_sees_only_new_positions(family_lm: LanguageModel) -> None:
    """Steering during cached generation: fn sees the prompt, then one position per step, and the result equals
    steering every position of a full recompute at each step (use_cache=False)."""
    lm, prompt = family_lm, ids_for(family_lm, batch=2, tokens=6)
    v = _direction(lm, 8.0)
    shapes: list[tuple[int, ...]] = []

    def steer(x: torch.Tensor) -> torch.Tensor:
        shapes.append(tuple(x.shape))
        return x + v

    with torch.inference_mode():
        clean = _generate(lm, prompt, use_cache=True)
        with lm.patching("blocks.1.hook_attn_out", steer):
            cached = _generate(lm, prompt, use_cache=True)
            cached_shapes, shapes[:] = list(shapes), []
            recomputed = _generate(lm, prompt, use_cache=False)
    assert cached_shapes == [(2, 6, 64), (2, 1, 64), (2, 1, 64), (2, 1, 64)]
    assert shapes == [(2, 6 + i, 64) for i in range(4)]
    torch.testing.assert_close(cached, recomputed, atol=1e-4, rtol=1e-4)
    assert (cached - clean).abs().max() > 1e-3


# --------------------------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------------------------


def test_gradients_flow_through_a_patch(family_lm: LanguageModel) -> None:
    """d(logit)/d(delta at the hook) from autograd equals a central finite difference along a direction."""
    lm, ids = family_lm, ids_for(family_lm, batch=1, tokens=8)
    hook, target = "blocks.1.hook_mlp_out", 123

    def loss(delta: torch.Tensor) -> torch.Tensor:
        with lm.patching(hook, lambda x: x + delta):
            return lm.model(input_ids=ids, use_cache=False).logits[0, -1, target]

    delta = torch.zeros(1, 8, 64, requires_grad=True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(loss(delta), delta)
    assert grad.abs().sum() > 0
    u = torch.randn(1, 8, 64, generator=torch.Generator().manual_seed(4))
    u, eps = u / u.norm(), 1e-2
    with torch.no_grad():
        numeric = (loss(eps * u) - loss(-eps * u)) / (2 * eps)
    torch.testing.assert_close((grad * u).sum(), numeric, atol=1e-4, rtol=1e-2)
    assert all(p.grad is None for p in lm.model.parameters())


# --------------------------------------------------------------------------------------------------------------
# Exclusion and errors
# --------------------------------------------------------------------------------------------------------------


def test_other_threads_wait_until_the_patch_is_removed(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    clean = lm.activations(ids, "blocks.2.hook_resid_pre")
    got: list[torch.Tensor] = []
    other = threading.Thread(target=lambda: got.append(lm.activations(ids, "blocks.2.hook_resid_pre")))
    with lm.patching("blocks.1.hook_resid_post", torch.zeros_like):
        other.start()
        time.sleep(0.2)
        assert not got, "another thread ran a forward while the patch was installed"
    other.join(30)
    torch.testing.assert_close(got[0], clean)


def test_patching_errors_name_the_hook(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    with (
        pytest.raises(HookError, match=r"'blocks.9.hook_mlp_out'.*0\.\.3"),
        lm.patching("blocks.9.hook_mlp_out", None),
    ):
        pass
    with pytest.raises(ValueError, match=r"'blocks.1.hook_mlp_in': replacement has shape \(3, 1, 64\)"):
        lm.logits_with_replacement(ids, "blocks.1.hook_mlp_in", lambda x: x[:, :1])
    with pytest.raises(ValueError, match=r"replacement has shape float"):
        lm.logits_with_replacement(ids, "blocks.1.hook_attn_out", lambda x: 0.0)  # type: ignore[arg-type,return-value]
    torch.testing.assert_close(  # a failed forward leaves no hook behind
        lm.logits_with_replacement(ids, "blocks.1.hook_attn_out"),
        lm.model(input_ids=ids, use_cache=False).logits.detach(),
    )
