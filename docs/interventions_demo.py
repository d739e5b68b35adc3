"""Steering and ablation on SmolLM2-135M (the packaged GGUF): the real outputs of docs/feature_case_studies.md's
"Testing a feature's meaning" section.

``python docs/interventions_demo.py`` builds an SAE at ``blocks.20.hook_resid_pre`` whose features read and write
the unit unembedding directions of a few words (the encoder is the decoder's transpose, no biases), measures each
feature's max activation on 255 TinyStories tokens (BOS and attention sinks left out), then for two of them:
steering at 4 x and 8 x that max (greedy, 16 new tokens, beside the clean model), P(the feature's logit-lens top
token) at the next position, and attribution of that token after a prompt with the strongest feature ablated.
``--sae DIR`` uses a trained SAE instead (its hook; ``--features`` then takes indices).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.interventions import Intervention, Positions, attribute, intervened_logits, steer  # noqa: E402
from shared.lm import load_lm, packaged_smollm2  # noqa: E402
from shared.sae import SAEConfig, create_sae, load_sae  # noqa: E402

HOOK = "blocks.20.hook_resid_pre"
WORDS = (" sun", " ball", " dog", " tree")
STEER_PROMPT = "Once upon a time, there was a little girl who"
ATTR_PROMPT = "Lily and her dog went to the park. The sun was warm and the sky was blue. Lily threw the"


def lens_sae(lm, words: tuple[str, ...]):  # type: ignore[no-untyped-def]
    ids = [lm.tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in words]
    sae = create_sae(SAEConfig(architecture="relu", d_in=lm.d_model, d_sae=len(ids), hook_name=HOOK)).eval()
    with torch.no_grad():
        rows = lm.model.get_output_embeddings().weight[ids]
        sae.W_dec.copy_(rows / rows.norm(dim=-1, keepdim=True))
        sae.W_enc.copy_(sae.W_dec.T)
    return sae


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sae", type=Path, help="a trained SAE directory (default: the word-direction SAE)")
    parser.add_argument("--features", type=int, nargs="+", default=[0, 1], help="feature indices to study")
    parser.add_argument(
        "--attr-prompt",
        nargs="+",
        help="one attribution prompt per feature (default: the park prompt for all)",
    )
    parser.add_argument(
        "--attr-target",
        choices=("lens", "top"),
        default="lens",
        help="the token attributed: the feature's logit-lens top token, or the model's own top next token",
    )
    args = parser.parse_args()
    prompts = args.attr_prompt or [ATTR_PROMPT] * len(args.features)
    if len(prompts) != len(args.features):
        parser.error(f"--attr-prompt: {len(prompts)} prompts for {len(args.features)} features")
    lm = load_lm(str(packaged_smollm2()))
    sae = load_sae(args.sae).eval() if args.sae else lens_sae(lm, WORDS)
    hook = sae.cfg.hook_name
    text = (ROOT.parent / "shared/data/tinystories/tinystories-part-002.txt").read_text()[:6000]
    story = lm.tokenizer(text, add_special_tokens=False)["input_ids"][:255]
    acts = lm.activations(torch.tensor([[lm.bos_token_id, *story]]), hook)[0, 1:]
    norms = acts.norm(dim=-1)
    with torch.no_grad():
        max_act = sae.encode(acts[norms < 10 * norms.median()]).amax(0)
    lens = lm.unembed(sae.W_dec.detach()).topk(3, dim=-1).indices.tolist()
    prompt = lm.tokenizer(STEER_PROMPT, add_special_tokens=False)["input_ids"]
    batch = torch.tensor([[lm.bos_token_id, *prompt]])
    clean = torch.softmax(lm.logits_with_replacement(batch, hook)[0, -1], -1)
    for i in args.features:
        top = lm.token_strings(lens[i])
        print(f"\n### feature {i}: logit-lens top tokens {top}, max activation {float(max_act[i]):.1f}")
        for mult in (4, 8):
            iv = [Intervention(i, "steer", mult * float(max_act[i]))]
            p = float(torch.softmax(intervened_logits(lm, sae, batch, iv)[0, -1], -1)[lens[i][0]])
            out = steer(lm, sae, prompt, iv, max_new_tokens=16)
            print(
                f"- steer {mult} x max ({mult * float(max_act[i]):.1f}): P({top[0]!r}) next "
                f"{float(clean[lens[i][0]]):.2e} -> {p:.2e} (x{p / float(clean[lens[i][0]]):.1f})"
            )
            print(f"  clean:   {STEER_PROMPT}|{out.baseline_text!r}")
            print(
                f"  steered: {STEER_PROMPT}|{out.steered_text!r}  (max KL {max(s.kl for s in out.steps):.2f})"
            )
    for i, attr_prompt in zip(args.features, prompts, strict=True):
        ids = lm.tokenizer(attr_prompt, add_special_tokens=False)["input_ids"]
        tokens = lm.token_strings(ids)
        full = torch.tensor([[lm.bos_token_id, *ids]])
        before = torch.softmax(lm.logits_with_replacement(full, hook)[0, -1], -1)
        target = lens[i][0] if args.attr_target == "lens" else int(before.argmax())
        att = attribute(lm, sae, ids, target=target, top_k=3)
        best = sorted(
            ((a.attribution, p, a.feature) for p, row in enumerate(att.positive + att.negative) for a in row),
            key=lambda t: -abs(t[0]),
        )[:3]
        print(
            f"\n### attribution of {att.target!r} after {attr_prompt!r}: logit {att.logit:.2f}, p {att.prob:.2e}"
        )
        for score, p, f in best:
            pos = p % len(tokens)
            print(f"- feature {f} on {tokens[pos]!r} (position {pos}): {score:+.3f}")
        print(
            f"- check: ablating feature {att.check_feature} at {tokens[att.check_position]!r} (position "
            f"{att.check_position}): predicted {att.predicted_change:+.3f}, actual {att.actual_change:+.3f}"
        )
        every = [Intervention(i, "ablate", positions=Positions.all())]
        with torch.no_grad():
            acts_here = sae.encode(lm.activations(full, hook)[0, 1:])[:, i]
        fired = [(tokens[p], round(float(a), 2)) for p, a in enumerate(acts_here) if a > 0]
        print(f"- feature {i} fires on this prompt at {fired or 'no token'}")
        after = torch.softmax(intervened_logits(lm, sae, full, every)[0, -1], -1)
        print(
            f"- ablating feature {i} everywhere: P({att.target!r}) {float(before[target]):.2e} -> "
            f"{float(after[target]):.2e}; top next token {lm.token_strings([int(before.argmax())])} -> "
            f"{lm.token_strings([int(after.argmax())])}"
        )


if __name__ == "__main__":
    main()
