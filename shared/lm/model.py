"""``LanguageModel``: a causal LM plus tokenizer, read and patched at TransformerLens-style hook points.

- ``activations`` / ``activations_at`` run the embeddings and blocks only up to the deepest requested hook (a hook
  raises a private exception carrying the tensors), never the rest of the model or the LM head.
- ``patching(hook, fn)`` installs ``fn`` at a hook point for every forward inside the ``with`` block (plain
  forwards, ``generate`` with its KV cache, forwards with gradients), the base of interventions and attribution;
  ``logits_with_replacement`` is one full forward under it.
- ``unembed`` is the logit lens of residual directions; ``token_strings`` decodes ids for display.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from shared.devices import resolve_device
from shared.hooknames import HookError, HookPoint, parse_hook
from shared.lm.families import find_layout
from shared.lm.hooks import HookFn, install, remove
from shared.lm.load import load_hf, resolve_dtype
from shared.lm.tokens import token_strings

if TYPE_CHECKING:
    from transformers import PreTrainedModel

_EPS_ATTRS = ("eps", "variance_epsilon", "epsilon")


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """Raised by a capture hook once every requested tensor is in hand, to end the forward early."""


def load_lm(
    model: str,
    gguf_file: str | None = None,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float32,
) -> LanguageModel:
    """Load a causal LM by hub name, local directory, ``.gguf`` path (or ``smollm2`` for the packaged one).

    Fails fast with ModelLoadError when the path is missing, the hub is unreachable and the model is not cached,
    or the architecture's blocks cannot be found."""
    hf_model, tokenizer = load_hf(model, gguf_file, resolve_dtype(dtype))
    return LanguageModel(hf_model, tokenizer, name=model, device=device)


class LanguageModel:
    """A causal LM plus tokenizer with access to every block's hook points (see ``hook_names``)."""

    def __init__(self, model: PreTrainedModel, tokenizer: Any, name: str = "", device: str = "cpu") -> None:
        self.device = resolve_device(device)
        model.to(self.device)  # type: ignore[arg-type]  # transformers types .to() oddly
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name or getattr(model.config, "name_or_path", "")
        self.layout = find_layout(model)
        self.family = self.layout.family
        self.blocks = self.layout.blocks
        self.final_norm = self.layout.final_norm
        self._lock = threading.RLock()  # hooks are global to the model: callers take turns
        self.n_layers = len(self.blocks)
        self.d_model = int(model.config.get_text_config().hidden_size)
        self.eos_token_id: int | None = tokenizer.eos_token_id
        bos = tokenizer.bos_token_id
        self.bos_token_id: int | None = bos if bos is not None else self.eos_token_id

    def __repr__(self) -> str:
        return f"LanguageModel({self.name!r}, family={self.family}, n_layers={self.n_layers}, d_model={self.d_model})"

    # ---- hook points ----------------------------------------------------------------------------------------

    @property
    def hook_names(self) -> list[str]:
        """Every hook this model offers, in forward order."""
        points = [HookPoint(layer, kind) for layer in range(self.n_layers) for kind in self.layout.kinds]
        return [p.name for p in sorted(points, key=lambda p: p.depth)]

    def hook_point(self, hook: str) -> HookPoint:
        """Parse ``hook`` and check this model has it; a HookError lists the valid hooks and layers."""
        try:
            point = parse_hook(hook, self.n_layers, self.layout.kinds)
        except HookError as err:
            raise HookError(f"{err} (model {self.name!r})") from None
        return point

    def _input(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids: expected [batch, tokens], got shape {tuple(input_ids.shape)}")
        return input_ids.to(self.device, torch.long, non_blocking=True)

    # ---- patching -------------------------------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the model for this thread: forwards run inside see no other caller's hooks (``patching`` and every
        method here hold it already; wrap your own ``self.model(...)`` or ``generate`` calls in it)."""
        with self._lock:
            yield

    @contextmanager
    def patching(self, hook: str, fn: HookFn) -> Iterator[HookPoint]:
        """Install ``fn`` at ``hook`` for every forward of ``self.model`` inside the ``with`` block.

        ``fn(x)`` receives the hook's tensor [B, T, d] of each forward: all positions in a plain forward, only the
        new positions in ``model.generate`` with a KV cache (the prompt first, then [B, 1, d] per new token). It
        returns None to leave ``x`` unchanged (observe, e.g. keep ``x`` for its gradient) or a tensor of x's shape
        that replaces it downstream (cast to x's dtype). At ``attn_out`` / ``mlp_out`` the replacement is that
        sublayer's output (what it adds to the residual); at ``mlp_in``, the MLP's input only; at the residual
        hooks, the residual stream itself. No grad mode is imposed: under ``torch.enable_grad()`` gradients flow
        through ``fn``. Contexts nest (several hooks, or several functions at one hook, applied in entry order);
        the model is held by this thread until the outermost one exits. Yields the parsed hook point.
        """
        point = self.hook_point(hook)
        site = self.layout.site(point)

        def checked(x: torch.Tensor) -> torch.Tensor | None:
            new = fn(x)
            if new is None:
                return None
            if not isinstance(new, torch.Tensor) or new.shape != x.shape:
                got = tuple(new.shape) if isinstance(new, torch.Tensor) else type(new).__name__
                raise ValueError(
                    f"hook {point.name!r}: replacement has shape {got}, expected {tuple(x.shape)}"
                )
            return new.to(x.dtype)

        with self._lock:
            handles = install(site, checked)
            try:
                yield point
            finally:
                remove(handles)

    # ---- reading --------------------------------------------------------------------------------------------

    @torch.inference_mode()
    def activations(self, input_ids: torch.Tensor, hook: str) -> torch.Tensor:
        """The tensor [B, T, d] at ``hook``; runs only the blocks up to it."""
        return self.activations_at(input_ids, [hook])[hook]

    @torch.inference_mode()
    def activations_at(self, input_ids: torch.Tensor, hooks: Sequence[str]) -> dict[str, torch.Tensor]:
        """The tensors [B, T, d] at several hooks from one forward that stops after the deepest of them.

        Returns ``{hook: tensor}`` keyed as given; each tensor equals what ``activations(input_ids, hook)`` gives.
        A hook given twice is a HookError. Inside a ``patching`` block the patches apply (a tensor read at the
        patched hook is the replacement)."""
        points = {hook: self.hook_point(hook) for hook in hooks}
        if len(set(points.values())) != len(points) or len(points) != len(hooks):
            raise HookError(f"hooks {list(hooks)!r}: a hook is listed twice")
        if not points:
            return {}
        ids = self._input(input_ids)
        captured: dict[str, torch.Tensor] = {}

        def capture(hook: str) -> HookFn:
            def fn(x: torch.Tensor) -> None:
                last = len(captured) + 1 == len(points)
                captured[hook] = x if last else x.clone()  # later layers must not change what was read
                if last:
                    raise _Stop

            return fn

        with self._lock, ExitStack() as stack:
            for hook, point in points.items():
                stack.callback(remove, install(self.layout.site(point), capture(hook)))
            with suppress(_Stop):
                self.layout.base(input_ids=ids, use_cache=False)
        missing = [h for h in points if h not in captured]
        if missing:  # pragma: no cover - a site that the forward never reached
            raise RuntimeError(f"hooks {missing}: never reached by the forward of {self.name}")
        return {hook: captured[hook] for hook in points}

    @torch.inference_mode()
    def logits_with_replacement(
        self,
        input_ids: torch.Tensor,
        hook: str,
        fn: HookFn | None = None,
    ) -> torch.Tensor:
        """Logits [B, T, V] of a full forward with the tensor at ``hook`` replaced by ``fn(x)`` (see
        ``patching``; ``fn=None``: clean logits, the hook still checked)."""
        ids = self._input(input_ids)
        point = self.hook_point(hook)
        with self._lock, self.patching(point.name, fn) if fn is not None else nullcontext():
            return self.model(input_ids=ids, use_cache=False).logits

    # ---- logit lens and tokens ------------------------------------------------------------------------------

    @torch.inference_mode()
    def unembed(self, directions: torch.Tensor) -> torch.Tensor:
        """Logit lens of residual directions [n, d] -> [n, V]: the final norm without its division by the norm
        (x mean-centred for LayerNorm, times the norm's gain, its bias left out), a projection to the head's width
        where the model has one (OPT), then the unembedding matrix (its bias left out). Computed through the model's
        own norm module, so gain conventions such as Gemma's ``1 + weight`` hold. Final-logit softcapping (Gemma 2)
        is not applied."""
        if directions.ndim != 2 or directions.shape[1] != self.d_model:
            raise ValueError(f"directions: expected [n, {self.d_model}], got shape {tuple(directions.shape)}")
        w_u = self.layout.unembedding_weight  # [V, d_head]
        x = self._norm_gain(directions.to(w_u.device, w_u.dtype))
        project = self.layout.project_out
        if project is not None:
            x = x @ project.weight.T
        return x @ w_u.T

    def _norm_gain(self, x: torch.Tensor) -> torch.Tensor:
        """``final_norm(x)`` with its 1/scale undone and its bias removed: centre(x) * gain, exactly."""
        norm = self.final_norm
        if isinstance(norm, nn.Identity):
            return x
        name = type(norm).__name__
        centred = isinstance(norm, nn.LayerNorm) or ("LayerNorm" in name and "RMS" not in name)
        xc = x - x.mean(dim=-1, keepdim=True) if centred else x
        eps = next(
            (float(getattr(norm, a)) for a in _EPS_ATTRS if isinstance(getattr(norm, a, None), float)), 0.0
        )
        scale = (xc.pow(2).mean(dim=-1, keepdim=True) + eps).sqrt()
        y = norm(x)
        bias = getattr(norm, "bias", None)
        if isinstance(bias, torch.Tensor):
            y = y - bias
        return y * scale

    def token_strings(self, ids: Iterable[int] | torch.Tensor | int) -> list[str]:
        """Decoded text of each token id, e.g. ``[" cat", "s"]`` (see ``shared.lm.tokens.token_strings``)."""
        return token_strings(self.tokenizer, ids)
