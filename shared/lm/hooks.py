"""Install a function at a hook site: torch forward (pre-)hooks that show it the site's tensor and may replace it.

``install(site, fn)`` registers ``fn`` so that every forward through the model calls ``fn(x)`` with the site's
tensor ``x`` [B, T, d] (T = the positions this forward computes: the whole prompt, or only the new tokens when a
KV cache is used). ``fn`` returns None to leave ``x`` as it is, or a tensor of the same shape to replace it
downstream. OPT's MLP sites see flattened [B*T, d] rows; they are shown as [B, T, d] using the shape of the
block's input in the same forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from shared.lm.families import ArchitectureError, Site

HookFn = Callable[[torch.Tensor], torch.Tensor | None]
"""``fn(x) -> None`` (observe) or ``fn(x) -> replacement`` (same shape as ``x``)."""
_HIDDEN_KWARGS = ("hidden_states", "x", "input")


def first_input(
    module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[torch.Tensor, str | None]:
    """(the module's first tensor input, its keyword name or None when positional)."""
    if args and isinstance(args[0], torch.Tensor):
        return args[0], None
    for key in _HIDDEN_KWARGS:
        if isinstance(kwargs.get(key), torch.Tensor):
            return kwargs[key], key
    raise ArchitectureError(
        f"{type(module).__name__}: no tensor input to hook (args or {', '.join(_HIDDEN_KWARGS)})"
    )


def first_output(module: nn.Module, output: Any) -> torch.Tensor:
    """The module's output tensor (the first element when it returns a tuple, as attention modules do)."""
    tensor = output[0] if isinstance(output, tuple) else output
    if not isinstance(tensor, torch.Tensor):
        raise ArchitectureError(f"{type(module).__name__}: output is {type(output).__name__}, not a tensor")
    return tensor


def install(site: Site, fn: HookFn) -> list[RemovableHandle]:
    """Register ``fn`` at ``site``; returns the handles (remove them to uninstall)."""
    handles: list[RemovableHandle] = []
    rows: list[torch.Size] = []  # flat sites: the [B, T] of the block's input in the current forward

    if site.flat:

        def record_rows(block: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            rows[:] = [first_input(block, args, kwargs)[0].shape[:-1]]

        handles.append(site.block.register_forward_pre_hook(record_rows, with_kwargs=True))

    def apply(x: torch.Tensor) -> torch.Tensor | None:
        shown = x.reshape(*rows[0], x.shape[-1]) if site.flat else x
        new = fn(shown)
        if new is None:
            return None
        return new.reshape(x.shape) if site.flat else new

    if site.read == "input":

        def pre(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            x, key = first_input(module, args, kwargs)
            new = apply(x)
            if new is None:
                return None
            if key is None:
                return (new, *args[1:]), kwargs
            return args, {**kwargs, key: new}

        handles.append(site.module.register_forward_pre_hook(pre, with_kwargs=True))
    else:

        def post(module: nn.Module, _args: tuple[Any, ...], output: Any) -> Any:
            new = apply(first_output(module, output))
            if new is None:
                return None
            return (new, *output[1:]) if isinstance(output, tuple) else new

        handles.append(site.module.register_forward_hook(post))
    return handles


def remove(handles: list[RemovableHandle]) -> None:
    """Uninstall, last registered first."""
    for handle in reversed(handles):
        handle.remove()
