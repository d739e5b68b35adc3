"""Steering the real SmolLM2-135M (packaged GGUF) with features whose decoder rows are unembedding directions: at
4 x a feature's max activation, P(its logit-lens top token) at the next position rises by the factors stated."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import torch

from shared.interventions import Intervention, intervened_logits, steer
from shared.lm import LanguageModel, load_lm
from shared.sae import SAEConfig, create_sae

HOOK = "blocks.20.hook_resid_pre"
WORDS = (" dog", " cat", " ball", " tree", " red", " water", " sun", " happy")
PROMPT = "Once upon a time, there was a little girl who"
MIN_FACTOR = 1.4
"""Every feature: P(T) steered / P(T) clean at least this (measured 1.5x to 155x; the two weakest are " dog" and
" happy", whose lens top tokens are "dog" and " interpre", not the word itself)."""
OWN_WORD_FACTOR = 5.0
"""The features whose lens top token is their own word (6 of 8): at least this each (measured 6.6x to 155x)."""
MEDIAN_FACTOR = 10.0
"""The median over all eight at least this (measured 13x)."""


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf: Path) -> LanguageModel:
    return load_lm(str(smollm2_gguf))


@pytest.mark.slow
def test_steering_at_four_times_max_activation_raises_the_logit_lens_token(
    smollm2: LanguageModel, tinystories_dir: Path
) -> None:
    lm = smollm2
    ids = [lm.tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in WORDS]
    sae = create_sae(SAEConfig(architecture="relu", d_in=lm.d_model, d_sae=len(ids), hook_name=HOOK)).eval()
    with torch.no_grad():  # an encoder reading its own decoder direction: f_i = ReLU(x . d_i)
        rows = lm.model.get_output_embeddings().weight[ids]
        sae.W_dec.copy_(rows / rows.norm(dim=-1, keepdim=True))
        sae.W_enc.copy_(sae.W_dec.T)
    lens_top = lm.unembed(sae.W_dec.detach()).argmax(-1).tolist()  # T of each feature

    # max activation over 255 real TinyStories tokens, BOS and attention sinks (norm > 10 x median) left out
    text = (tinystories_dir / "tinystories-part-002.txt").read_text()[:6000]
    story = lm.tokenizer(text, add_special_tokens=False)["input_ids"][:255]
    acts = lm.activations(torch.tensor([[lm.bos_token_id, *story]]), HOOK)[0, 1:]
    norms = acts.norm(dim=-1)
    with torch.no_grad():
        max_act = sae.encode(acts[norms < 10 * norms.median()]).amax(0)
    assert bool((max_act > 0).all())

    prompt = lm.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    batch = torch.tensor([[lm.bos_token_id, *prompt]])
    clean = torch.softmax(lm.logits_with_replacement(batch, HOOK)[0, -1], -1)
    factors = []
    for i, t in enumerate(lens_top):
        steered = intervened_logits(lm, sae, batch, [Intervention(i, "steer", 4 * float(max_act[i]))])
        factor = float(torch.softmax(steered[0, -1], -1)[t] / clean[t])
        factors.append(factor)
        print(
            f"feature {i} T={lm.token_strings([t])[0]!r} max act {float(max_act[i]):.1f}: P(T) x {factor:.1f}"
        )
    assert min(factors) >= MIN_FACTOR and statistics.median(factors) >= MEDIAN_FACTOR, factors
    own = [f for f, t, w in zip(factors, lens_top, ids, strict=True) if t == w]
    assert len(own) == 6 and min(own) >= OWN_WORD_FACTOR, factors

    sun = WORDS.index(" sun")  # the same steering through generation: step 0 is the prompt's next position
    out = steer(lm, sae, prompt, [Intervention(sun, "steer", 4 * float(max_act[sun]))], max_new_tokens=8)
    assert out.baseline_ids != out.steered_ids and out.steps[0].kl > 0.01
    print("baseline:", repr(out.baseline_text), "steered:", repr(out.steered_text))
