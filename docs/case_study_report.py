"""Pick the case-study features of an analysed run (a fixed, stated rule) and print their evidence as markdown.

Besides reading ``<run>/results/``, it re-encodes every collected token for the picked features only and applies the
trainer's own exclusion (BOS, and tokens whose residual norm exceeds ``cfg.json`` ``norm_threshold``: the attention
-sink tokens the SAE never saw in training). That gives top contexts, density and max activation on the tokens the
SAE was trained for, next to the analyser's figures, and counts how many of the analyser's top examples are sinks.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from services.analyser.results import Results, load_results
from shared.exclusion import Exclusion
from shared.features import ExampleRecord, FeatureRecord, TokenValue
from shared.sae import SAE, load_sae
from shared.shards import ActivationSet

SEED = 0
PER_GROUP = 3
MIN_DENSITY = 1e-3
"""Random and low-grade picks need at least this density (about 200 firings here) so their examples mean something."""
N_CONTEXTS = 5
LEFT, RIGHT = 12, 4


def pick(features: list[FeatureRecord]) -> list[tuple[str, FeatureRecord]]:
    """Three groups of ``PER_GROUP``: best label scores, random alive features, random Low-grade features."""
    alive = [f for f in features if not f.dead and not f.dense]
    graded = [f for f in alive if f.grade is not None and f.label_score is not None]
    best = sorted(graded, key=lambda f: (-(f.label_score or 0.0), -f.n_active, f.index))[:PER_GROUP]
    taken = {f.index for f in best}
    rng = random.Random(SEED)
    pool = [f for f in alive if f.index not in taken and f.density >= MIN_DENSITY]
    randoms = rng.sample(pool, PER_GROUP)
    taken |= {f.index for f in randoms}
    low = [f for f in graded if f.grade == "Low" and f.index not in taken and f.density >= MIN_DENSITY]
    lows = rng.sample(low, min(PER_GROUP, len(low)))
    groups = [("top label score", best), ("random alive", randoms), ("random Low grade", lows)]
    return [(name, f) for name, fs in groups for f in fs]


# --------------------------------------------------------------------------------------------------------------
# Exact re-encode of the picked features, with the trainer's exclusion
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Rescan:
    """The picked features over every collected token: activations, token ids, and the excluded-token mask."""

    acts: np.ndarray
    """[n_ctx, T, n_picked] float32."""
    tokens: np.ndarray
    """[n_ctx, T] int32."""
    excluded: np.ndarray
    """[n_ctx, T] bool: left out by ``shared.exclusion`` (BOS positions, residual norm above norm_threshold)."""
    sink: np.ndarray
    """[n_ctx, T] bool: excluded for the norm only (a non-BOS attention sink)."""


@torch.inference_mode()
def rescan(sae: SAE, aset: ActivationSet, picked: list[int]) -> Rescan:
    exclusion = Exclusion.for_sae(sae.cfg.extra, aset.meta)  # the rule training and the analyser apply
    bos_only = replace(exclusion, norm_threshold=None)
    cols = torch.tensor(picked)
    w, b = sae.W_enc[:, cols].float(), sae.b_enc[cols].float()
    acts, tokens, excluded, sinks = [], [], [], []
    for i in range(aset.n_shards):
        x, t = aset.read_shard(i)
        xt = torch.from_numpy(x)
        acts.append(torch.relu(sae.encoder_input(xt) @ w + b).numpy())
        keep, keep_bos_rule = exclusion.keep_mask(x, t), bos_only.keep_mask(x, t)
        excluded.append(~keep)
        sinks.append(keep_bos_rule & ~keep)
        tokens.append(t)
    return Rescan(
        np.concatenate(acts), np.concatenate(tokens), np.concatenate(excluded), np.concatenate(sinks)
    )


def show(token: str) -> str:
    """A token as printed in markdown code: newlines visible, no backticks."""
    return token.replace("\n", "↵").replace("`", "'")


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|")


def window_text(token_ids: np.ndarray, centre: int, vocab: dict[int, str]) -> str:
    lo, hi = max(0, centre - LEFT), min(len(token_ids), centre + RIGHT + 1)
    parts = []
    for p in range(lo, hi):
        tok = cell(show(vocab.get(int(token_ids[p]), f"<{int(token_ids[p])}>")))
        parts.append(f"«{tok}»" if p == centre else tok)
    return "".join(parts).strip()


def top_contexts(scan: Rescan, j: int, vocab: dict[int, str]) -> list[tuple[float, str]]:
    """The ``N_CONTEXTS`` highest activations of picked feature ``j``, one per context, excluded tokens left out."""
    a = np.where(scan.excluded, 0.0, scan.acts[:, :, j])
    best_pos = a.argmax(axis=1)
    best = a[np.arange(len(a)), best_pos]
    order = np.argsort(-best, kind="stable")[:N_CONTEXTS]
    return [
        (float(best[c]), window_text(scan.tokens[c], int(best_pos[c]), vocab)) for c in order if best[c] > 0
    ]


# --------------------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------------------


def token_list(values: list[TokenValue], n: int) -> str:
    return ", ".join(f"`{show(t.token)!r}`" for t in values[:n])


def section(
    group: str,
    f: FeatureRecord,
    ex: list[ExampleRecord],
    by_index: dict[int, FeatureRecord],
    scan: Rescan,
    j: int,
    vocab: dict[int, str],
) -> str:
    score = "n/a" if f.label_score is None else f"{f.label_score:.2f}"
    kept = ~scan.excluded
    a = scan.acts[:, :, j]
    density = float((a[kept] > 0).mean())
    sink_fires = a[scan.sink]
    n_sink_top = sum(bool(scan.sink[e.context, e.position]) for e in ex)
    lines = [
        f"### Feature {f.index}: `{show(f.label or '')}` ({f.grade or 'ungraded'}, picked as: {group})",
        "",
        f"- analyser: label score (held-out F1) {score}; density {f.density:.3%} ({f.n_active} tokens); "
        f"max activation {f.max_activation:.2f}, mean when firing {f.mean_activation:.2f}",
        f"- re-encoded without the {int(scan.sink.sum())} sink tokens: density {density:.3%}, "
        f"max activation {float(a[kept].max()):.2f}; on the sinks it fires on {int((sink_fires > 0).sum())}, "
        f"max {float(sink_fires.max()):.2f}; sinks among the analyser's top {len(ex)}: {n_sink_top}",
        f"- label description: {f.label_description}",
        "- fires most on (share of its firings): "
        + ", ".join(f"`{show(t.token)!r}` {t.value:.0%}" for t in f.top_tokens[:6]),
        f"- logit lens, promotes: {token_list(f.top_logits, 10)}",
        f"- logit lens, suppresses: {token_list(f.bottom_logits, 5)}",
    ]
    for name, refs in (
        ("decoder-cosine", f.decoder_neighbours),
        ("co-activation (Jaccard)", f.coactivation_neighbours),
    ):
        if refs:
            n = by_index[refs[0].index]
            lines.append(
                f"- nearest {name} neighbour: {n.index} ({refs[0].score:.2f}), label `{show(n.label or '')}`"
            )
    lines += ["", "| act | top context, sinks excluded (max token in «») |", "|---:|---|"]
    lines += [f"| {act:.2f} | `{text}` |" for act, text in top_contexts(scan, j, vocab)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path, help="run directory (trained, evaluated and analysed)")
    args = parser.parse_args()
    res: Results = load_results(args.run)
    by_index = {f.index: f for f in res.features}
    vocab = {t.token_id: t.token for t in res.token_index}
    top: dict[int, list[ExampleRecord]] = defaultdict(list)
    for e in res.examples:
        vocab.update(zip(e.token_ids, e.tokens, strict=True))  # BOS is only in example windows
        if e.kind == "top":
            top[e.feature].append(e)
    s = res.summary
    ev = json.loads((args.run / "eval.json").read_text()) if (args.run / "eval.json").is_file() else {}
    print(f"run {s.run}: {s.model_name} {s.hook_name} {s.architecture} d_sae={s.d_sae}, {s.n_tokens} tokens")
    print(f"dead {s.n_dead}, dense {s.n_dense}, alive {s.n_alive}; grades {s.grade_counts}")
    print("eval: " + json.dumps({k: v for k, v in ev.items() if isinstance(v, (int, float))}))

    picks = pick(res.features)
    sae = load_sae(args.run)
    scan = rescan(sae, ActivationSet.open(s.activations_path), [f.index for _, f in picks])
    sink_first = sum(
        bool(scan.sink[e.context, e.position]) for e in res.examples if e.kind == "top" and e.rank == 0
    )
    print(
        f"sink tokens (non-BOS, norm > threshold): {int(scan.sink.sum())}; features whose #1 top example is one: "
        f"{sink_first} of {s.n_alive}"
    )
    print("\n| Feature | Label | Grade (score) | Picked as |\n|---|---|---|---|")
    for group, f in picks:
        score = "n/a" if f.label_score is None else f"{f.label_score:.2f}"
        print(f"| {f.index} | `{cell(show(f.label or ''))}` | {f.grade} ({score}) | {group} |")
    for j, (group, f) in enumerate(picks):
        ex = sorted(top[f.index], key=lambda e: e.rank)
        print("\n" + section(group, f, ex, by_index, scan, j, vocab))


if __name__ == "__main__":
    main()
