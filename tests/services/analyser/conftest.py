"""Planted ground truth for analysis tests: real TinyStories tokens, synthetic activations and a hand-built SAE.

Activations are a fixed random direction per token id (+ small noise), so each token is recognisable. The SAE has
a feature F whose encoder fires only on " cat", a feature G that fires only on " dog" but shares F's decoder
direction, a dead feature D, and background features with random encoders that fire on a few random tokens
(weakly, so F stays the strongest feature on " cat").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from support.activations import write_resid_set
from support.threads import one_torch_thread  # noqa: F401 - autouse here

from shared.sae import SAEConfig, create_sae, save_sae

T = 32
D_SAE = 16
F, G, DEAD = 3, 7, 11
SCALE = 10.0


@dataclass
class Planted:
    run_dir: Path
    tokens: np.ndarray
    """[n_ctx, T] token ids (position 0 is BOS)."""
    acts: np.ndarray
    cat: int
    dog: int
    model_dir: Path
    F: int = F
    """Fires only on " cat"."""
    G: int = G
    """Fires only on " dog"; same decoder direction as F."""
    DEAD: int = DEAD
    """Never fires."""


def _tokenizer(model_dir: Path):  # noqa: ANN202
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def _contexts(text: str, tok, T: int) -> np.ndarray:  # noqa: ANN001
    ids = tok(text)["input_ids"]
    body = T - 1
    n = len(ids) // body
    rows = np.array(ids[: n * body], dtype=np.int64).reshape(n, body)
    bos = np.full((n, 1), tok.eos_token_id, dtype=np.int64)
    return np.concatenate([bos, rows], axis=1)


def _sae(d_in: int, emb: np.ndarray, cat: int, dog: int, run_dir: Path, data_dir: Path, model_dir: Path):  # noqa: ANN202
    gen = torch.Generator().manual_seed(1)
    cfg = SAEConfig(
        architecture="relu",
        d_in=d_in,
        d_sae=D_SAE,
        hook_name="blocks.0.hook_resid_pre",
        model_name=str(model_dir),
        context_size=T,
        apply_b_dec_to_input=False,
        activations_path=str(data_dir),
    )
    sae = create_sae(cfg)
    w_enc = torch.randn(d_in, D_SAE, generator=gen)
    w_enc /= w_enc.norm(dim=0, keepdim=True)
    b_enc = torch.full((D_SAE,), -0.3 * SCALE)  # background: fires where x . w > 3 (a few random tokens)
    e = torch.from_numpy(emb)
    w_enc[:, F], b_enc[F] = 2 * e[cat], -1.4 * SCALE  # 2 * (10 + noise) - 14 ~ 6 on " cat", < 0 elsewhere
    w_enc[:, G], b_enc[G] = 2 * e[dog], -1.4 * SCALE
    w_enc[:, DEAD], b_enc[DEAD] = 0.0, -1.0
    w_dec = torch.randn(D_SAE, d_in, generator=gen)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    w_dec[G] = w_dec[F]
    with torch.no_grad():
        sae.W_enc.copy_(w_enc)
        sae.b_enc.copy_(b_enc)
        sae.W_dec.copy_(w_dec)
        sae.b_dec.zero_()
    save_sae(sae, run_dir)
    return sae


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path, tiny_gpt2_dir: Path) -> Planted:
    tok = _tokenizer(tiny_gpt2_dir)
    stories = small_corpus.read_text().split("<|endoftext|>")
    text = "<|endoftext|>".join(s for s in stories if " cat" in s or " dog" in s)
    tokens = _contexts(text, tok, T)
    d_in = 64  # the tiny GPT-2's d_model, so the logit lens applies
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((len(tok), d_in)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    acts = SCALE * emb[tokens] + 0.05 * rng.standard_normal((*tokens.shape, d_in)).astype(np.float32)
    root = tmp_path_factory.mktemp("planted")
    data_dir, run_dir = root / "acts", root / "run"
    write_resid_set(
        data_dir,
        acts.astype(np.float32),
        tokens,
        16,
        model=str(tiny_gpt2_dir),
        layer=0,
        bos_token_id=tok.eos_token_id,
    )
    cat, dog = tok(" cat")["input_ids"][0], tok(" dog")["input_ids"][0]
    _sae(d_in, emb, cat, dog, run_dir, data_dir, tiny_gpt2_dir)
    return Planted(run_dir=run_dir, tokens=tokens, acts=acts, cat=cat, dog=dog, model_dir=tiny_gpt2_dir)
