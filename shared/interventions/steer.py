"""Generation with interventions, beside the clean model: two continuations of one prompt, token by token.

Both run in one batch of two rows sharing the prompt (row 0 clean, row 1 intervened) with a KV cache, so each
step is one forward (one row when there is no intervention). Greedy at temperature 0; otherwise both rows sample from ``softmax(logits / temperature)``
with the same uniform draw per step (inverse CDF, seeded), so an empty intervention list gives two identical
continuations. At each generated position both rows' top tokens (probabilities at temperature 1) and
KL(clean || intervened) between the two next-token distributions are reported; each row's distribution is on its
own prefix (the same until the first token that differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from shared.interventions.spec import Intervention
from shared.interventions.splice import InterventionHook, last_logits_only

BASELINE, STEERED = 0, 1


@dataclass(frozen=True)
class TokenProb:
    token_id: int
    token: str
    prob: float


@dataclass(frozen=True)
class GeneratedStep:
    """One generated position: what each row produced there and its top tokens; None once a row has ended."""

    position: int
    """Position of the generated token (0 = the prompt's first token after BOS)."""
    baseline: TokenProb | None
    steered: TokenProb | None
    baseline_top: list[TokenProb]
    steered_top: list[TokenProb]
    kl: float
    """KL(clean || intervened) of the two next-token distributions, in nats."""


@dataclass(frozen=True)
class Steered:
    prompt_tokens: list[str]
    baseline_ids: list[int]
    steered_ids: list[int]
    baseline_text: str
    steered_text: str
    steps: list[GeneratedStep]


def _sample(logits: Tensor, temperature: float, generator: torch.Generator | None) -> Tensor:
    """Next token of each row [B]: argmax at temperature 0, else inverse-CDF sampling with one shared draw."""
    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    cdf = probs.cumsum(-1)
    u = torch.rand((), generator=generator, dtype=torch.float64).to(cdf.device)
    return torch.searchsorted(cdf, (u * cdf[:, -1:]).contiguous()).squeeze(-1).clamp_max(logits.shape[-1] - 1)


def _top(lm: Any, logp: Tensor, k: int) -> list[TokenProb]:
    values, indices = logp.topk(k)
    ids = indices.tolist()
    return [
        TokenProb(token_id=i, token=s, prob=float(v))
        for i, s, v in zip(ids, lm.token_strings(ids), values.exp().tolist(), strict=True)
    ]


@torch.inference_mode()
def steer(
    lm: Any,
    sae: Any,
    prompt_ids: Sequence[int],
    interventions: Sequence[Intervention],
    max_new_tokens: int,
    temperature: float = 0.0,
    seed: int = 0,
    top_k: int = 5,
    prepend_bos: bool = True,
) -> Steered:
    """Generate up to ``max_new_tokens`` after ``prompt_ids`` (no BOS: it is prepended when ``prepend_bos`` and
    the tokenizer has one), clean and with ``interventions``; a row ends at the tokenizer's EOS."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens: must be at least 1 (got {max_new_tokens})")
    if not temperature >= 0:
        raise ValueError(f"temperature: must be >= 0 (got {temperature})")
    if not prompt_ids:
        raise ValueError("prompt_ids: the prompt is empty")
    bos = prepend_bos and lm.bos_token_id is not None
    ids = ([lm.bos_token_id] if bos else []) + list(prompt_ids)
    n_rows = 2 if interventions else 1  # no intervention: one row is both (the two are then equal exactly)
    steered_row = n_rows - 1
    batch = torch.tensor([ids] * n_rows, dtype=torch.long, device=lm.device)
    generator = torch.Generator().manual_seed(seed) if temperature > 0 else None
    hook = InterventionHook(sae, interventions, bos, rows=slice(steered_row, n_rows))
    made: list[list[int]] = [[], []]
    ended = [False, False]
    steps: list[GeneratedStep] = []
    with lm.patching(sae.cfg.hook_name, hook):
        out = lm.model(input_ids=batch, use_cache=True, **last_logits_only(lm))
        for step in range(max_new_tokens):
            logits = out.logits[[BASELINE, steered_row], -1].float()
            logp = torch.log_softmax(logits, dim=-1)
            kl = float((logp[BASELINE].exp() * (logp[BASELINE] - logp[STEERED])).sum().clamp_min(0))
            nxt = _sample(logits, temperature, generator).tolist()
            chosen: list[TokenProb | None] = []
            for row in (BASELINE, STEERED):
                if ended[row]:
                    chosen.append(None)
                    continue
                made[row].append(nxt[row])
                chosen.append(
                    TokenProb(nxt[row], lm.token_strings([nxt[row]])[0], float(logp[row, nxt[row]].exp()))
                )
                ended[row] = nxt[row] == lm.eos_token_id
            steps.append(GeneratedStep(
                position=len(prompt_ids) + step, baseline=chosen[BASELINE], steered=chosen[STEERED],
                baseline_top=_top(lm, logp[BASELINE], top_k), steered_top=_top(lm, logp[STEERED], top_k), kl=kl,
            ))  # fmt: skip
            if all(ended) or step + 1 == max_new_tokens:
                break
            feed = torch.tensor(
                [[nxt[BASELINE]], [nxt[STEERED]]][:n_rows], dtype=torch.long, device=lm.device
            )
            out = lm.model(input_ids=feed, cache=out.cache, use_cache=True)
    decode = lm.tokenizer.decode
    return Steered(
        prompt_tokens=lm.token_strings(list(prompt_ids)),
        baseline_ids=made[BASELINE],
        steered_ids=made[STEERED],
        baseline_text=decode(made[BASELINE]),
        steered_text=decode(made[STEERED]),
        steps=steps,
    )
