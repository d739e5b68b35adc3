"""Attribution of a target logit to SAE features: activation x gradient, through the rest of the model.

At the SAE's hook the activation can be written ``x + dec(f~) - dec(f)`` with ``f~`` a copy of ``f = encode(x)``
(the forward is unchanged: the two decodings are equal). Feature i at position p contributes
``f[p, i] * d logit[q, target] / d f~[p, i]``: the first-order change of the target logit when that activation is
removed, negated. Since ``x -> x + dec(f~) - dec(f)`` is affine in ``f~``, that gradient is the decoder's
vector-Jacobian product of the hook activation's gradient ``g``: ``denormalise'(g) . W_dec[i]`` (at the active
features only), so the forward and backward are the bare model's, with the hook activation as the leaf, plus
one SAE encode. The check beside it ablates the feature with the largest |attribution| at its position and
measures the real change of the target logit: its sign should be the opposite of the attribution's. The check's
forward reruns only what the ablation changes: the positions from the ablated one on (the clean KV cache of the
ones before it kept) and the blocks from the SAE's hook on (the ones before it give back their clean outputs from
the attribution's forward, ``shared.lm.resume``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from shared.interventions.spec import Intervention, Positions
from shared.interventions.splice import InterventionHook, last_logits_only
from shared.lm.resume import BlockPrefix, shadowing


@dataclass(frozen=True)
class FeatureScore:
    feature: int
    activation: float
    attribution: float


@dataclass(frozen=True)
class Attribution:
    """Per prompt position (0 = first token after BOS, up to ``position``): the top positive and negative features."""

    tokens: list[str]
    position: int
    """The position whose next-token logit is attributed."""
    target_id: int
    target: str
    logit: float
    """The clean target logit at ``position``."""
    prob: float
    positive: list[list[FeatureScore]]
    negative: list[list[FeatureScore]]
    scores: Tensor
    """All attributions [position + 1, d_sae] (float32, CPU)."""
    check_position: int
    check_feature: int
    check_activation: float
    predicted_change: float
    """Minus the attribution of the checked feature: the first-order change of the logit when it is ablated."""
    actual_change: float
    """The target logit's real change when that feature is ablated at that position."""

    @property
    def check_agrees(self) -> bool:
        return (self.predicted_change > 0) == (self.actual_change > 0)


def attribution_scores(
    lm: Any, sae: Any, ids: Tensor, position: int, target: int | None
) -> tuple[Tensor, Tensor, Tensor, Any]:
    """(activations f [T, d_sae], attributions [T, d_sae], clean logits at ``position`` [V], the forward's KV
    cache) for one sequence ``ids`` [1, T] (positions counted in ``ids`` here); target None = the clean top token
    at ``position``."""
    held: dict[str, Tensor] = {}

    def hook(x: Tensor) -> Tensor:
        with torch.no_grad():
            held["f"] = sae.encode(x.detach().to(sae.W_dec.dtype))
        held["x"] = leaf = x.detach().requires_grad_(True)
        return leaf

    head = lm.model.get_output_embeddings()

    def head_forward(h: Tensor) -> Tensor:
        held["h"] = h
        held["logits"] = logits = torch.nn.functional.linear(h, head.weight, head.bias)
        return logits

    plain = type(head) is torch.nn.Linear
    with (
        torch.enable_grad(),
        lm.patching(sae.cfg.hook_name, hook),
        shadowing([(head, head_forward)] if plain else []),
    ):
        out = lm.model(input_ids=ids[:, : position + 1], use_cache=True, **last_logits_only(lm))
        logits = out.logits[0, -1]
        target_id = int(logits.argmax()) if target is None else target
        if plain and out.logits is held["logits"]:
            # nothing after the head: d logit / d h is the target's row of the unembedding, so the backward
            # starts from that row instead of a one-hot through all V rows (a full read of the unembedding);
            # only this product's gradient is used (the logit's value is the model's own, above)
            logit = held["h"][0, -1] @ head.weight[target_id]
        else:  # e.g. final-logit soft-capping: through the model's own logits
            logit = logits[target_id]
        (grad,) = torch.autograd.grad(logit, held["x"])
    f = held["f"][0]
    return (
        f,
        feature_gradient_times_activation(sae, held["x"][0].detach(), grad[0], f),
        logits.detach(),
        getattr(out, "cache", None),
    )


def feature_gradient_times_activation(sae: Any, x: Tensor, grad: Tensor, f: Tensor) -> Tensor:
    """``f * d/df~`` [T, d_sae] (float32) of the quantity whose gradient at the hook's raw activation ``x`` [T, d_in]
    is ``grad``, through ``x + dec(f~) - dec(f)``: the decoder's vector-Jacobian product, evaluated only where
    ``f`` is non-zero (elsewhere activation x gradient is 0) when fewer than 1 in 16 are."""
    dtype = sae.W_dec.dtype
    xs = x.to(dtype)
    # ``denormalise_output`` is affine in the reconstruction: its VJP is the same at every reconstruction
    with torch.enable_grad():
        recon = sae.b_dec.detach().expand_as(xs).clone().requires_grad_(True)
        (g,) = torch.autograd.grad(sae.denormalise_output(recon, xs), recon, grad.to(dtype))
    w = sae.W_dec.detach()
    active = f.nonzero(as_tuple=True)
    if active[0].numel() * 16 >= f.numel():
        return (f * (g @ w.T)).float()
    scores = torch.zeros(f.shape, dtype=torch.float32, device=f.device)
    pos, feat = active
    scores[pos, feat] = (f[pos, feat] * (g[pos] * w[feat]).sum(-1)).float()
    return scores


def _croppable(cache: Any) -> bool:
    """A plain dynamic cache of full-attention layers (cropping others, e.g. sliding windows, is not exact)."""
    layers = getattr(cache, "layers", None) or []
    return (
        type(cache).__name__ == "DynamicCache"
        and len(layers) > 0
        and all(type(layer).__name__ == "DynamicLayer" for layer in layers)
    )


@torch.inference_mode()
def ablated_logit(
    lm: Any,
    sae: Any,
    ids: Tensor,
    check: Intervention,
    first: int,
    bos: bool,
    cache: Any,
    target: int,
    prefix: BlockPrefix | None = None,
) -> float:
    """The target's logit at the last of ``ids`` [1, T] with ``check`` ablating a feature from position ``first``
    (after BOS) on: the clean cache of the positions before it is reused when it can be cropped exactly, so only
    the positions from ``first`` on run again; with ``prefix`` (recorded in the clean forward of ``ids``) only the
    blocks from the SAE's hook on run (all blocks when it cannot replay)."""
    start = first + int(bos)
    hook = InterventionHook(sae, [check], bos=bos)
    kwargs: dict[str, Any] = {**last_logits_only(lm), "use_cache": False}
    rerun_from = 0
    if cache is not None and _croppable(cache):
        cache.crop(start - ids.shape[1])  # a negative count: remove the positions from start on
        hook.offset = first
        kwargs.update(cache=cache, use_cache=True)
        ids, rerun_from = ids[:, start:], start
    replay: AbstractContextManager[Any] = (
        prefix.replaying(rerun_from) if prefix is not None else nullcontext()
    )
    with lm.patching(sae.cfg.hook_name, hook), replay, _head_row(lm, target) as column:
        logits = lm.model(input_ids=ids, **kwargs).logits
    return float(logits[0, -1, column].float())


@contextmanager
def _head_row(lm: Any, target: int) -> Iterator[int]:
    """While open, the LM head computes the ``target`` token's logit alone (one row of the unembedding instead of
    all ``V``; what the model does after its head, e.g. final-logit soft-capping or scaling, is elementwise and
    runs unchanged); yields the logits' column holding it (``target`` when the head is not a plain linear layer
    and runs whole)."""
    head = lm.model.get_output_embeddings()
    if type(head) is not torch.nn.Linear:
        yield target
        return
    weight = head.weight[target : target + 1]
    bias = None if head.bias is None else head.bias[target : target + 1]
    with shadowing([(head, lambda h: torch.nn.functional.linear(h, weight, bias))]):
        yield 0


def _top(f: Tensor, scores: Tensor, k: int, sign: int) -> list[list[FeatureScore]]:
    """Per row of ``scores`` [P, d_sae], its ``k`` largest ``sign * score`` features that are above zero (one
    batched top-k, not one per position)."""
    values, indices = (sign * scores).topk(min(k, scores.shape[1]), dim=1)
    rows = zip(indices.tolist(), f.gather(1, indices).tolist(), values.tolist(), strict=True)
    return [
        [
            FeatureScore(feature=i, activation=a, attribution=sign * v)
            for i, a, v in zip(ids, acts, vals, strict=True)
            if v > 0
        ]
        for ids, acts, vals in rows
    ]


def attribute(
    lm: Any,
    sae: Any,
    prompt_ids: Sequence[int],
    target: int | None = None,
    position: int | None = None,
    top_k: int = 5,
    prepend_bos: bool = True,
) -> Attribution:
    """Attribute the logit of ``target`` (default: the clean top token) at ``position`` (default: the last prompt
    token) to every feature at every position up to it; BOS (prepended as in training) is left out."""
    n = len(prompt_ids)
    if n == 0:
        raise ValueError("prompt_ids: the prompt is empty")
    position = n - 1 if position is None else position
    if not 0 <= position < n:
        raise ValueError(f"position: must be between 0 and {n - 1} (got {position})")
    vocab = int(lm.model.get_output_embeddings().weight.shape[0])
    if target is not None and not 0 <= target < vocab:
        raise ValueError(f"target: token id {target} is outside the vocabulary (0..{vocab - 1})")
    shift = int(prepend_bos and lm.bos_token_id is not None)
    ids = torch.tensor([([lm.bos_token_id] if shift else []) + list(prompt_ids)], device=lm.device)
    prefix = BlockPrefix(lm, sae.cfg.hook_name)
    with prefix.recording():
        f, scores, logits, cache = attribution_scores(lm, sae, ids, position + shift, target)
    f, scores = f[shift:].float().cpu(), scores[shift:].cpu()
    target_id = int(logits.argmax()) if target is None else target
    logit = float(logits[target_id])
    flat = int(scores.abs().argmax())
    check_pos, check_feat = divmod(flat, scores.shape[1])
    ablate = Intervention(check_feat, "ablate", positions=Positions.at(check_pos))
    ablated = ablated_logit(
        lm, sae, ids[:, : position + shift + 1], ablate, check_pos, bool(shift), cache, target_id, prefix
    )
    return Attribution(
        tokens=lm.token_strings(list(prompt_ids)),
        position=position,
        target_id=target_id,
        target=lm.token_strings([target_id])[0],
        logit=logit,
        prob=float(torch.softmax(logits, -1)[target_id]),
        positive=_top(f[: position + 1], scores[: position + 1], top_k, 1),
        negative=_top(f[: position + 1], scores[: position + 1], top_k, -1),
        scores=scores[: position + 1],
        check_position=check_pos,
        check_feature=check_feat,
        check_activation=float(f[check_pos, check_feat]),
        predicted_change=-float(scores[check_pos, check_feat]),
        actual_change=ablated - logit,
    )
