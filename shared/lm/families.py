"""Find a causal LM's decoder blocks, final norm, unembedding and hook sites from its own module structure.

Generic rules (every family): the blocks are the one ``nn.ModuleList`` whose length is
``config.num_hidden_layers``; the module holding that list (``transformer``, ``gpt_neox``, ``model``,
``model.decoder``) is the base model that runs them; the final norm is the one norm among the base's direct children
(none for post-LN OPT); the unembedding is ``get_output_embeddings()``, preceded by a projection when its input width
differs from d_model (OPT's ``project_out``: the base's Linear from d_model to that width). Inside a block, the
attention is the one child whose class name ends in ``Attention`` and the MLP the one whose class name ends in
``MLP``. ``QUIRKS`` holds the few families that differ: OPT has no MLP module (``fc1`` -> activation -> ``fc2``
on flattened [B*T, d] rows), Gemma 2/3 normalise each sublayer's output before adding it to the residual.

A ``Site`` says where a hook kind's tensor lives: a module's input (its first argument) or its output. The
definitions per kind and family are in docs/theory.md ("Hook points").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from shared.hooknames import HOOK_KINDS, HookError, HookKind, HookPoint
from shared.lm.load import ModelLoadError


class ArchitectureError(ModelLoadError):
    """The model's structure does not match what the hooks need; the message names the model type and part."""


@dataclass(frozen=True)
class Quirks:
    """Where a family differs from the generic rules: block children (by attribute name) to use instead."""

    attn_out: str | None = None
    """Child whose output is the attention sublayer's contribution (a post-attention norm), if not the attention."""
    mlp_out: str | None = None
    """Child whose output is the MLP sublayer's contribution, if not the MLP module."""
    mlp_in: str | None = None
    """Child whose input is the MLP's input, if not the MLP module."""
    flat_mlp: bool = False
    """The MLP sites see [B*T, d] rows (reshaped to the block's [B, T, d] for hooks)."""


_GEMMA_POST_NORMS = Quirks(attn_out="post_attention_layernorm", mlp_out="post_feedforward_layernorm")
QUIRKS: dict[str, Quirks] = {
    "opt": Quirks(mlp_in="fc1", mlp_out="fc2", flat_mlp=True),
    "gemma2": _GEMMA_POST_NORMS,
    "gemma3_text": _GEMMA_POST_NORMS,
}


@dataclass(frozen=True)
class Site:
    """Where a hook point's tensor lives: the first input or the (first) output of ``module``."""

    module: nn.Module
    read: Literal["input", "output"]
    block: nn.Module
    """The decoder block containing the site (its input gives [B, T] for flat sites)."""
    flat: bool = False
    """The tensor is [B*T, d] and is shown to hooks as [B, T, d]."""


@dataclass
class Layout:
    """The parts of one causal LM that hooks, truncated forwards and the logit lens use."""

    family: str
    """``config.model_type``, e.g. ``gpt2``, ``gpt_neox``, ``opt``, ``llama``, ``gemma2``, ``phi3``."""
    base: nn.Module
    """The module that embeds the tokens and runs the blocks (called for truncated forwards)."""
    blocks: nn.ModuleList
    final_norm: nn.Module
    """The norm after the last block (``nn.Identity`` when the model has none)."""
    project_out: nn.Linear | None
    """A projection between the final norm and the unembedding (OPT-350m's ``project_out``), else None."""
    unembedding: nn.Module
    """``get_output_embeddings()``: weight [V, d_head_in]."""
    quirks: Quirks = field(default_factory=Quirks)
    modules: dict[str, list[nn.Module | None]] = field(default_factory=dict)
    """Per sublayer kind (``attn_out``, ``mlp_in``, ``mlp_out``), the module of each block holding it."""

    @property
    def kinds(self) -> tuple[HookKind, ...]:
        """The hook kinds this model offers (all five unless a block lacks an attention or MLP module)."""
        return tuple(
            k for k in HOOK_KINDS if k not in self.modules or all(m is not None for m in self.modules[k])
        )

    @property
    def unembedding_weight(self) -> torch.Tensor:
        """The unembedding matrix [V, d_head] (d_head = d_model unless ``project_out`` maps to it)."""
        weight = self.unembedding.weight
        assert isinstance(weight, torch.Tensor)
        return weight

    def site(self, point: HookPoint) -> Site:
        """The module and side that ``point`` reads; HookError when this model has no such site."""
        if point.kind not in self.kinds:
            raise HookError(
                f"hook {point.name!r}: model type {self.family!r} has no {point.kind} site "
                f"(its blocks offer {', '.join(self.kinds)})"
            )
        block = self.blocks[point.layer]
        if point.kind in ("resid_pre", "resid_post"):
            return Site(block, "input" if point.kind == "resid_pre" else "output", block)
        module = self.modules[point.kind][point.layer]
        assert module is not None
        flat = self.quirks.flat_mlp and point.kind != "attn_out"
        return Site(module, "input" if point.kind == "mlp_in" else "output", block, flat)


# --------------------------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------------------------


def _child(parent: nn.Module, name: str) -> nn.Module:
    module = getattr(parent, name, None)
    if not isinstance(module, nn.Module):
        raise ArchitectureError(f"block {type(parent).__name__}: expected a child module {name!r}")
    return module


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, nn.LayerNorm | nn.RMSNorm) or type(module).__name__.endswith("Norm")


def _find_blocks(model: nn.Module, n_layers: int | None) -> tuple[str, nn.ModuleList]:
    """The shallowest ModuleList of ``n_layers`` same-class modules (named path, list)."""
    found = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.ModuleList)
        and len(m) > 0
        and (n_layers is None or len(m) == n_layers)
        and len({type(b) for b in m}) == 1
    ]
    if not found:
        raise ArchitectureError(f"no ModuleList of {n_layers} decoder blocks found")
    depth = min(name.count(".") for name, _ in found)
    shallow = [(name, m) for name, m in found if name.count(".") == depth]
    if len(shallow) > 1:
        names = ", ".join(name for name, _ in shallow)
        raise ArchitectureError(f"several candidate lists of {n_layers} decoder blocks: {names}")
    return shallow[0]


def _one_child(block: nn.Module, suffix: str, names: tuple[str, ...]) -> nn.Module | None:
    """The block's child whose class name ends in ``suffix`` (by attribute name among ``names`` if several)."""
    hits = [(n, m) for n, m in block.named_children() if type(m).__name__.endswith(suffix)]
    if len(hits) > 1:
        hits = [(n, m) for n, m in hits if n in names]
    if len(hits) > 1:
        raise ArchitectureError(
            f"block {type(block).__name__}: several {suffix} children ({', '.join(n for n, _ in hits)})"
        )
    return hits[0][1] if hits else None


def _final_norm(base: nn.Module, blocks_name: str) -> nn.Module:
    norms = [(n, m) for n, m in base.named_children() if n != blocks_name and _is_norm(m)]
    if len(norms) > 1:
        raise ArchitectureError(
            f"{type(base).__name__}: several norms beside the blocks ({', '.join(n for n, _ in norms)})"
        )
    return norms[0][1] if norms else nn.Identity()


def _project_out(base: nn.Module, d_model: int, head_in: int) -> nn.Linear | None:
    if head_in == d_model:
        return None
    for module in base.children():
        if isinstance(module, nn.Linear) and (module.in_features, module.out_features) == (d_model, head_in):
            return module
    raise ArchitectureError(
        f"{type(base).__name__}: the unembedding reads width {head_in}, not d_model {d_model}, "
        "and no projection from d_model to it was found"
    )


def find_layout(model: Any) -> Layout:
    """Discover the layout of a Hugging Face causal LM; ArchitectureError names what could not be found."""
    config = model.config.get_text_config()
    family = str(getattr(config, "model_type", "") or type(model).__name__)
    try:
        n_layers = getattr(config, "num_hidden_layers", None)
        blocks_path, blocks = _find_blocks(model, n_layers)
        base_path, _, blocks_name = blocks_path.rpartition(".")
        base = model.get_submodule(base_path) if base_path else model
        unembedding = model.get_output_embeddings()
        if unembedding is None or getattr(unembedding, "weight", None) is None:
            raise ArchitectureError("get_output_embeddings() returned no unembedding matrix")
        d_model = int(config.hidden_size)
        quirks = QUIRKS.get(family, Quirks())
        mlp = [_mlp_module(b) for b in blocks]
        modules: dict[str, list[nn.Module | None]] = {
            "attn_out": [_child(b, quirks.attn_out) if quirks.attn_out else _attn_module(b) for b in blocks],
            "mlp_in": [_child(b, quirks.mlp_in) for b in blocks] if quirks.mlp_in else list(mlp),
            "mlp_out": [_child(b, quirks.mlp_out) for b in blocks] if quirks.mlp_out else list(mlp),
        }
        return Layout(
            family=family,
            base=base,
            blocks=blocks,
            final_norm=_final_norm(base, blocks_name),
            project_out=_project_out(base, d_model, int(unembedding.weight.shape[1])),
            unembedding=unembedding,
            quirks=quirks,
            modules=modules,
        )
    except ArchitectureError as err:
        raise ArchitectureError(
            f"model type {family!r}: unsupported architecture: {err} (saelab finds the decoder blocks as the "
            "ModuleList of config.num_hidden_layers blocks; see docs/theory.md, 'Hook points')"
        ) from None


def _attn_module(block: nn.Module) -> nn.Module | None:
    return _one_child(block, "Attention", ("self_attn", "attn", "attention", "self_attention"))


def _mlp_module(block: nn.Module) -> nn.Module | None:
    return _one_child(block, "MLP", ("mlp", "feed_forward"))
