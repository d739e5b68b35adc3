"""Every family's hook points against the model's own tensors: hidden states, module outputs, logits.

The expectations here are written per family by hand (module paths, which norm feeds the MLP), independently of
the generic discovery in ``shared.lm.families``, so a wrong site in the discovery fails a test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from support.tiny_lms import ids_for
from torch import nn

from shared.lm import LanguageModel


@dataclass(frozen=True)
class Expected:
    """Hand-written facts about one family's blocks (attribute paths inside a block)."""

    model_type: str
    blocks: str
    attn_out: str
    mlp_out: str
    mlp: str
    mlp_norm: str
    mlp_reads: str  # "resid_mid" (sequential) or "resid_pre" (parallel attention + MLP)
    flat: bool = False
    pre_ln: bool = True


_LLAMA_LIKE = {"blocks": "model.layers", "attn_out": "self_attn", "mlp_out": "mlp", "mlp": "mlp"}
_GEMMA2_LIKE = {  # Gemma 2 and 3: a norm after attention and after the MLP as well as before each
    "blocks": "model.layers",
    "attn_out": "post_attention_layernorm",
    "mlp_out": "post_feedforward_layernorm",
    "mlp": "mlp",
    "mlp_norm": "pre_feedforward_layernorm",
    "mlp_reads": "resid_mid",
}
EXPECTED = {
    "gpt2": Expected("gpt2", "transformer.h", "attn", "mlp", "mlp", "ln_2", "resid_mid"),
    "gpt_neox": Expected(
        "gpt_neox", "gpt_neox.layers", "attention", "mlp", "mlp", "post_attention_layernorm", "resid_pre"
    ),
    "gpt_neox_sequential": Expected(
        "gpt_neox", "gpt_neox.layers", "attention", "mlp", "mlp", "post_attention_layernorm", "resid_mid"
    ),
    "opt": Expected(
        "opt", "model.decoder.layers", "self_attn", "fc2", "fc1", "final_layer_norm", "resid_mid", True
    ),
    "opt_post_ln": Expected(
        "opt",
        "model.decoder.layers",
        "self_attn",
        "fc2",
        "fc1",
        "self_attn_layer_norm",
        "resid_mid",
        True,
        False,
    ),
    "llama": Expected("llama", **_LLAMA_LIKE, mlp_norm="post_attention_layernorm", mlp_reads="resid_mid"),
    "mistral": Expected("mistral", **_LLAMA_LIKE, mlp_norm="post_attention_layernorm", mlp_reads="resid_mid"),
    "qwen2": Expected("qwen2", **_LLAMA_LIKE, mlp_norm="post_attention_layernorm", mlp_reads="resid_mid"),
    "gemma": Expected("gemma", **_LLAMA_LIKE, mlp_norm="post_attention_layernorm", mlp_reads="resid_mid"),
    "gemma2": Expected("gemma2", **_GEMMA2_LIKE),
    "gemma3_text": Expected("gemma3_text", **_GEMMA2_LIKE),
    "phi": Expected("phi", **_LLAMA_LIKE, mlp_norm="input_layernorm", mlp_reads="resid_pre"),
    "phi3": Expected("phi3", **_LLAMA_LIKE, mlp_norm="post_attention_layernorm", mlp_reads="resid_mid"),
}


def family_of(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["family_lm"])


def _block(lm: LanguageModel, exp: Expected, layer: int) -> nn.Module:
    return lm.model.get_submodule(f"{exp.blocks}.{layer}")


@contextmanager
def _recording(module: nn.Module, side: str, into: list[torch.Tensor]) -> Iterator[None]:
    """Record the module's first input or (first) output on every call, by a plain torch hook."""
    if side == "input":
        handle = module.register_forward_pre_hook(lambda _m, args: into.append(args[0].detach().clone()))
    else:

        def post(_m: nn.Module, _a: Any, out: Any) -> None:
            into.append((out[0] if isinstance(out, tuple) else out).detach().clone())

        handle = module.register_forward_hook(post)
    try:
        yield
    finally:
        handle.remove()


def _final(lm: LanguageModel, x: torch.Tensor) -> torch.Tensor:
    """The model's own path from the last residual to the head: final norm, then OPT's project_out."""
    base = lm.model.get_submodule(EXPECTED_BASE[lm.family])
    for name in ("ln_f", "final_layer_norm", "norm", "final_layernorm", "project_out"):
        module = getattr(base, name, None)
        if isinstance(module, nn.Module):
            x = module(x)
    return x


EXPECTED_BASE = {
    "gpt2": "transformer",
    "gpt_neox": "gpt_neox",
    "opt": "model.decoder",
    **{k: "model" for k in ("llama", "mistral", "qwen2", "gemma", "gemma2", "gemma3_text", "phi", "phi3")},
}


# --------------------------------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------------------------------


def test_blocks_norm_and_head_are_found_from_the_structure(
    family_lm: LanguageModel, request: pytest.FixtureRequest
) -> None:
    lm, exp = family_lm, EXPECTED[family_of(request)]
    assert (lm.family, lm.n_layers, lm.d_model) == (exp.model_type, 4, 64)
    assert lm.blocks is lm.model.get_submodule(exp.blocks)
    assert lm.layout.unembedding is lm.model.get_output_embeddings()
    assert len(lm.hook_names) == 4 * 5 and lm.hook_names[:5] == [
        "blocks.0.hook_resid_pre",
        "blocks.0.hook_attn_out",
        "blocks.0.hook_mlp_in",
        "blocks.0.hook_mlp_out",
        "blocks.0.hook_resid_post",
    ]
    if exp.pre_ln:
        assert type(lm.final_norm).__name__.endswith("Norm")
    else:  # OPT-350m style: no final norm, a projection to the head's width
        assert isinstance(lm.final_norm, nn.Identity) and lm.layout.project_out is not None


# --------------------------------------------------------------------------------------------------------------
# Reading: against output_hidden_states and the modules' own tensors
# --------------------------------------------------------------------------------------------------------------


def test_residual_hooks_match_hidden_states(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    with torch.no_grad():
        hidden = lm.model(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states
    assert len(hidden) == lm.n_layers + 1
    for layer in range(lm.n_layers):
        torch.testing.assert_close(lm.activations(ids, f"blocks.{layer}.hook_resid_pre"), hidden[layer])
        post = lm.activations(ids, f"blocks.{layer}.hook_resid_post")
        if layer + 1 < lm.n_layers:
            torch.testing.assert_close(post, hidden[layer + 1])
        else:  # the last hidden state has the final norm (and OPT's project_out) applied
            with torch.no_grad():
                torch.testing.assert_close(_final(lm, post), hidden[-1])


def test_sublayer_hooks_match_the_modules_own_tensors(
    family_lm: LanguageModel, request: pytest.FixtureRequest
) -> None:
    lm, exp = family_lm, EXPECTED[family_of(request)]
    ids = ids_for(lm)
    for layer in (0, 2, 3):
        block = _block(lm, exp, layer)
        seen: dict[str, list[torch.Tensor]] = {"attn_out": [], "mlp_out": [], "mlp_in": []}
        with (
            _recording(block.get_submodule(exp.attn_out), "output", seen["attn_out"]),
            _recording(block.get_submodule(exp.mlp_out), "output", seen["mlp_out"]),
            _recording(block.get_submodule(exp.mlp), "input", seen["mlp_in"]),
            torch.no_grad(),
        ):
            lm.model(input_ids=ids, use_cache=False)
        for kind, tensors in seen.items():
            assert len(tensors) == 1, f"{kind}: module called {len(tensors)} times"
            expected = tensors[0].view(3, 12, 64) if exp.flat else tensors[0]
            got = lm.activations(ids, f"blocks.{layer}.hook_{kind}")
            assert got.shape == (3, 12, 64)
            torch.testing.assert_close(got, expected)


def test_mlp_in_is_the_mlp_pre_norm_of_the_stream_it_reads(
    family_lm: LanguageModel, request: pytest.FixtureRequest
) -> None:
    """The definitions of docs/theory.md: mlp_in = the MLP's norm applied to resid_mid (resid_pre when attention
    and MLP run in parallel), and resid_post = resid_pre + attn_out + mlp_out in pre-LN blocks."""
    lm, exp = family_lm, EXPECTED[family_of(request)]
    ids = ids_for(lm)
    layer = 2
    acts = lm.activations_at(
        ids,
        [f"blocks.{layer}.hook_{k}" for k in ("resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post")],
    )
    pre, attn, mlp_in, mlp_out, post = acts.values()
    mid = pre + attn
    norm = _block(lm, exp, layer).get_submodule(exp.mlp_norm)
    with torch.no_grad():
        torch.testing.assert_close(mlp_in, norm(mid if exp.mlp_reads == "resid_mid" else pre))
        if exp.pre_ln:
            torch.testing.assert_close(post, mid + mlp_out, atol=1e-5, rtol=1e-5)
        else:  # post-LN: each sublayer's sum is normalised, and the MLP reads the normalised one
            torch.testing.assert_close(post, _block(lm, exp, layer).final_layer_norm(mlp_in + mlp_out))


def test_activations_at_equals_single_reads_and_stops_after_the_deepest(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    hooks = [
        "blocks.2.hook_mlp_in",
        "blocks.0.hook_resid_post",
        "blocks.1.hook_attn_out",
        "blocks.0.hook_resid_pre",
    ]
    calls: Counter[str] = Counter()
    watched = {f"block{i}": b for i, b in enumerate(lm.blocks)} | {"head": lm.model.get_output_embeddings()}
    handles = [m.register_forward_hook(lambda *_, n=n: calls.update([n])) for n, m in watched.items()]
    try:
        many = lm.activations_at(ids, hooks)
    finally:
        for h in handles:
            h.remove()
    assert list(many) == hooks
    for hook in hooks:
        assert torch.equal(many[hook], lm.activations(ids, hook)), hook
    assert set(calls) == {
        "block0",
        "block1",
    }  # block 2 stopped inside (at its MLP input), block 3 and head never


@pytest.mark.parametrize(
    ("hook", "runs", "skips"),
    [
        ("blocks.1.hook_resid_pre", ["block0"], ["attn1", "block1", "block2"]),
        ("blocks.1.hook_attn_out", ["block0", "attn1"], ["mlp1", "block1", "block2"]),
        ("blocks.1.hook_mlp_in", ["block0", "attn1"], ["mlp1", "block1", "block2"]),
        ("blocks.1.hook_mlp_out", ["block0", "attn1", "mlp1"], ["block1", "block2"]),
        ("blocks.1.hook_resid_post", ["block0", "block1"], ["block2", "norm", "head"]),
    ],
)
def test_truncated_forward_runs_nothing_after_the_hook(
    family_lm: LanguageModel, request: pytest.FixtureRequest, hook: str, runs: list[str], skips: list[str]
) -> None:
    lm, exp = family_lm, EXPECTED[family_of(request)]
    block = _block(lm, exp, 1)
    watched = {f"block{i}": b for i, b in enumerate(lm.blocks)}
    watched |= {"attn1": block.get_submodule(exp.attn_out), "mlp1": block.get_submodule(exp.mlp)}
    watched |= {"norm": lm.final_norm, "head": lm.model.get_output_embeddings()}
    calls: Counter[str] = Counter()
    handles = [m.register_forward_hook(lambda *_, n=n: calls.update([n])) for n, m in watched.items()]
    try:
        lm.activations(ids_for(lm), hook)
    finally:
        for h in handles:
            h.remove()
    assert all(calls[name] == 1 for name in runs), calls
    assert not any(calls[name] for name in skips), calls


# --------------------------------------------------------------------------------------------------------------
# Logits and the logit lens
# --------------------------------------------------------------------------------------------------------------


def test_clean_and_identity_replacement_give_the_models_logits(family_lm: LanguageModel) -> None:
    lm, ids = family_lm, ids_for(family_lm)
    with torch.no_grad():
        reference = lm.model(input_ids=ids, use_cache=False).logits
    for kind in ("resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post"):
        hook = f"blocks.1.hook_{kind}"
        torch.testing.assert_close(lm.logits_with_replacement(ids, hook, None), reference)
        torch.testing.assert_close(lm.logits_with_replacement(ids, hook, lambda x: x.clone()), reference)
        zeroed = lm.logits_with_replacement(ids, hook, torch.zeros_like)
        assert (zeroed - reference).abs().max() > 1e-4, hook


@pytest.mark.parametrize("kind", ["attn_out", "mlp_out"])
def test_replacing_a_sublayer_output_is_ablating_that_module(
    family_lm: LanguageModel, request: pytest.FixtureRequest, kind: str
) -> None:
    lm, exp = family_lm, EXPECTED[family_of(request)]
    ids = ids_for(lm)
    module = _block(lm, exp, 2).get_submodule(exp.attn_out if kind == "attn_out" else exp.mlp_out)

    def zero(_m: nn.Module, _a: Any, out: Any) -> Any:
        return (torch.zeros_like(out[0]), *out[1:]) if isinstance(out, tuple) else torch.zeros_like(out)

    handle = module.register_forward_hook(zero)
    try:
        with torch.no_grad():
            expected = lm.model(input_ids=ids, use_cache=False).logits
    finally:
        handle.remove()
    got = lm.logits_with_replacement(ids, f"blocks.2.hook_{kind}", torch.zeros_like)
    torch.testing.assert_close(got, expected)


def test_unembed_is_the_models_own_readout_without_the_norm_scale(
    family_lm: LanguageModel, request: pytest.FixtureRequest
) -> None:
    """logits = head(final(x)); unembed(x) = the same with final's division by the norm of x undone and its
    bias (and the head's) removed, before any final-logit softcapping."""
    lm, exp = family_lm, EXPECTED[family_of(request)]
    ids = ids_for(lm)
    x = lm.activations(ids, "blocks.3.hook_resid_post").reshape(-1, 64)
    with torch.no_grad():
        logits = lm.model(input_ids=ids, use_cache=False).logits.reshape(-1, 50257)
        cap = getattr(lm.model.config, "final_logit_softcapping", None)
        if cap:
            logits = cap * torch.atanh(logits / cap)
        head = lm.model.get_output_embeddings()
        offset = head(
            _final(lm, torch.zeros(1, 64))
        )  # the final norm's bias and the head's, through the head
        norm = lm.final_norm
        if not exp.pre_ln:
            scale = torch.ones(len(x), 1)
        elif isinstance(norm, nn.LayerNorm):
            scale = (x.var(-1, unbiased=False, keepdim=True) + norm.eps).sqrt()
        else:
            eps = getattr(norm, "variance_epsilon", getattr(norm, "eps", None))
            scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
    lens = lm.unembed(x)
    assert lens.shape == (len(x), 50257)
    torch.testing.assert_close(lens / scale + offset, logits, atol=2e-4, rtol=1e-3)
