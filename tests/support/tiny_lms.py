"""Tiny random causal LMs of every supported family, saved with save_pretrained (loaded by ``load_lm`` in tests).

Each family gets 4 blocks of width 64 and the real GPT-2 tokenizer files (vocabulary 50,257), so every model
tokenises the same text the same way. Norm gains and biases are drawn away from 1 and 0, so a hook read before or
after a norm, or a logit lens that forgets a gain convention (Gemma's ``1 + weight``), gives different numbers.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from shared.lm import LanguageModel

TOKENIZER_FILES = (
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
_COMMON = {"vocab_size": 50257, "bos_token_id": 50256, "eos_token_id": 50256}
_ATTN = {"hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "max_position_embeddings": 256}


def _configs() -> dict[str, Callable[[], Any]]:
    import transformers as t

    gqa = {**_ATTN, "num_key_value_heads": 2, "intermediate_size": 128}
    gemma = {**gqa, "head_dim": 16}
    return {
        "gpt_neox": lambda: t.GPTNeoXConfig(**_COMMON, **_ATTN, intermediate_size=128, rotary_pct=0.25),
        "gpt_neox_sequential": lambda: t.GPTNeoXConfig(
            **_COMMON, **_ATTN, intermediate_size=128, use_parallel_residual=False
        ),
        "opt": lambda: t.OPTConfig(**_COMMON, **_ATTN, ffn_dim=128, word_embed_proj_dim=64, pad_token_id=1),
        "opt_post_ln": lambda: t.OPTConfig(  # OPT-350m's shape: post-LN blocks, project_in / project_out
            **_COMMON,
            **_ATTN,
            ffn_dim=128,
            word_embed_proj_dim=32,
            do_layer_norm_before=False,
            pad_token_id=1,
        ),
        "llama": lambda: t.LlamaConfig(**_COMMON, **gqa),
        "mistral": lambda: t.MistralConfig(**_COMMON, **gqa, sliding_window=8),
        "qwen2": lambda: t.Qwen2Config(**_COMMON, **gqa),
        "gemma": lambda: t.GemmaConfig(**_COMMON, **gemma),
        "gemma2": lambda: t.Gemma2Config(**_COMMON, **gemma, sliding_window=8, query_pre_attn_scalar=16),
        "gemma3_text": lambda: t.Gemma3TextConfig(
            **_COMMON, **gemma, sliding_window=8, query_pre_attn_scalar=16
        ),
        "phi": lambda: t.PhiConfig(**_COMMON, **_ATTN, intermediate_size=128, partial_rotary_factor=0.5),
        "phi3": lambda: t.Phi3Config(**_COMMON, **gqa, pad_token_id=50256),
    }


FAMILIES = ("gpt2", *_configs())
"""Every family under test (``gpt2`` is the shared tiny GPT-2 fixture)."""


def perturb_norms(model: torch.nn.Module) -> None:
    with torch.no_grad():
        for module in model.modules():
            if not type(module).__name__.endswith("Norm"):
                continue
            weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
            if isinstance(weight, torch.Tensor):
                weight.uniform_(0.5, 1.5)
            if isinstance(bias, torch.Tensor):
                bias.uniform_(-0.2, 0.2)


def save_tiny(family: str, out: Path, tokenizer_dir: Path) -> Path:
    """Build the tiny random ``family`` model (seed 0), perturb its norms, save it with the GPT-2 tokenizer."""
    from transformers import AutoModelForCausalLM

    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, out / name)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(_configs()[family]())
    perturb_norms(model)
    model.save_pretrained(out)
    return out


def ids_for(lm: LanguageModel, batch: int = 3, tokens: int = 12, seed: int = 1) -> torch.Tensor:
    """Random token ids [batch, tokens] (fixed seed)."""
    return torch.randint(0, 50257, (batch, tokens), generator=torch.Generator().manual_seed(seed))


@contextmanager
def computing_blocks(lm: LanguageModel) -> Iterator[list[int]]:
    """The index of a block each time its own layers compute (a forward hook on its first Linear or Conv1D), in
    order: a block whose ``forward`` is replaced (``shared.lm.resume``) never shows."""
    ran: list[int] = []
    handles = []
    for i, block in enumerate(lm.blocks):
        first = next(m for m in block.modules() if type(m).__name__ in ("Linear", "Conv1D"))
        handles.append(first.register_forward_hook(lambda *_, i=i: ran.append(i)))
    try:
        yield ran
    finally:
        for handle in handles:
            handle.remove()
