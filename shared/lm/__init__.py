"""Causal LMs for saelab: load any Hugging Face causal LM, read and patch it at TransformerLens-style hook points.

Modules: ``load`` (hub / directory / GGUF loading, the converted-GGUF cache), ``families`` (finding blocks, final
norm, unembedding and hook sites from the model's structure), ``hooks`` (installing functions at hook sites),
``model`` (``LanguageModel`` and ``load_lm``), ``tokens`` (token display text), ``resume`` (rerunning a forward
from a hook on, the blocks before it replaying their recorded outputs). Hook names themselves live in the
torch-free ``shared.hooknames`` and are re-exported here.
"""

from shared.hooknames import HOOK_KINDS, HookError, HookKind, HookPoint, parse_hook, parse_hooks
from shared.lm.families import ArchitectureError, Layout, find_layout
from shared.lm.hooks import HookFn
from shared.lm.load import (
    ModelLoadError,
    model_cache_dir,
    packaged_smollm2,
    resolve_source,
    smollm2_package_dir,
)
from shared.lm.model import LanguageModel, load_lm

__all__ = [
    "HOOK_KINDS",
    "ArchitectureError",
    "HookError",
    "HookFn",
    "HookKind",
    "HookPoint",
    "LanguageModel",
    "Layout",
    "ModelLoadError",
    "find_layout",
    "load_lm",
    "model_cache_dir",
    "packaged_smollm2",
    "parse_hook",
    "parse_hooks",
    "resolve_source",
    "smollm2_package_dir",
]
