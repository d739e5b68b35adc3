"""Turn the state of a finished pass (plus decoder geometry and a labeller) into the shared result records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.config import AnalyseConfig
from shared.explanations import Score, token_rule_scores
from shared.features import (
    FeatureRecord,
    TokenFeature,
    TokenIndexRecord,
)

from .accumulate import FeaturePass
from .labels import Label, LabelEvidence, Labeller, TokenEvidence, grade_of
from .token_stats import TokenTable

Decode = Callable[[list[int]], list[str]]
"""Token ids -> decoded token strings (``LanguageModel.token_strings``)."""

ExampleRow = dict[str, Any]
"""An example as a plain dict with exactly :class:`shared.features.ExampleRecord`'s fields (built and written
without pydantic: examples are the bulk of the results, and validation dominated the build time)."""

N_TOP_TOKENS = 10
MAX_EVIDENCE_TOKENS = 20
"""Tokens (most label-split firings first) a labeller sees per feature."""


class Vocab:
    """Decoded token strings, decoded in bulk once and cached."""

    def __init__(self, decode: Decode) -> None:
        self._decode = decode
        self._table = np.empty(0, dtype=object)  # token id -> string (None = not decoded yet)

    def prefetch(self, ids: np.ndarray) -> None:
        """Decode every id in ``ids`` not decoded yet (negative ids are padding and skipped)."""
        ids = np.unique(ids[ids >= 0])
        if ids.size == 0:
            return
        if ids[-1] >= len(self._table):
            grown = np.empty(int(ids[-1]) + 1, dtype=object)
            grown[: len(self._table)] = self._table
            self._table = grown
        missing = ids[np.array([v is None for v in self._table[ids]], dtype=bool)]
        if missing.size:
            self._table[missing] = self._decode([int(i) for i in missing])

    def strings(self, ids: np.ndarray) -> list[str]:
        """Decoded strings of ``ids`` (all >= 0)."""
        if ids.size and ids.max() < len(self._table):
            out = self._table[ids].tolist()
            if None not in out:
                return out
        self.prefetch(ids)
        return self._table[ids].tolist()

    def __getitem__(self, token_id: int) -> str:
        return self.strings(np.array([token_id]))[0]


@dataclass
class Geometry:
    """Decoder-derived per-feature arrays (numpy, ``[d_sae, n]``)."""

    neighbour_idx: np.ndarray
    neighbour_cos: np.ndarray
    top_ids: np.ndarray
    top_logits: np.ndarray
    bottom_ids: np.ndarray
    bottom_logits: np.ndarray
    map_xy: np.ndarray | None = None
    """``[d_sae, 2]`` positions on the dictionary map in [0, 1]; None when the map is off."""


@dataclass
class _Windows:
    """A slot store's payload on the CPU."""

    filled: np.ndarray
    context: np.ndarray
    position: np.ndarray
    acts: np.ndarray
    tokens: np.ndarray
    value: np.ndarray


def _windows(slots) -> _Windows:  # noqa: ANN001 - a SlotTopM
    p = {name: t.cpu().numpy() for name, t in slots.payload.items()}
    return _Windows(
        filled=slots.filled().cpu().numpy(),
        context=p["context"],
        position=p["position"],
        acts=p["acts"],
        tokens=p["tokens"],
        value=p["value"] if "value" in p else slots.values.cpu().numpy(),
    )


class RecordBuilder:
    """Builds FeatureRecords, ExampleRecords and TokenIndexRecords from one finished :class:`FeaturePass`."""

    def __init__(
        self, fp: FeaturePass, cfg: AnalyseConfig, decode: Decode, geometry: Geometry, labeller: Labeller
    ):
        self.fp, self.cfg, self.geometry, self.labeller = fp, cfg, geometry, labeller
        self.vocab = Vocab(decode)
        self.d_sae = fp.settings.d_sae
        self.left = fp.settings.window.left
        self.count = fp.stats.count.cpu().numpy()
        self.density = fp.stats.density()
        self.mean = fp.stats.mean_active()
        self.max = fp.stats.max.cpu().numpy()
        self.min = fp.stats.min.cpu().numpy()
        self.top = _windows(fp.top.slots)
        self.quant = _windows(fp.quantiles.slots) if fp.quantiles is not None else None
        self.table: TokenTable = fp.tokens.table()
        self.by_feature = self.table.by_feature(self.d_sae)
        self.coact = fp.coact.neighbours(cfg.n_neighbours)
        self.vocab.prefetch(np.concatenate([a.ravel() for a in self._all_token_ids()]))

    def _all_token_ids(self) -> list[np.ndarray]:
        occurring = np.flatnonzero(self.table.count_label + self.table.count_heldout)
        ids = [self.top.tokens, occurring, self.geometry.top_ids, self.geometry.bottom_ids]
        if self.quant is not None:
            ids.append(self.quant.tokens)
        return ids

    # ---------------------------------------------------------------------------------------------- examples

    def _examples(
        self, w: _Windows, slots: np.ndarray, js: np.ndarray, feature: int, kinds: list[dict[str, Any]]
    ) -> list[ExampleRow]:
        """Rows for entries ``(slots[i], js[i])`` of a slot store, with ``kinds[i]`` (kind, bin, bin_range, rank)."""
        if len(js) == 0:
            return []
        toks, acts = w.tokens[slots, js], w.acts[slots, js]  # [n, W]
        valid = toks >= 0
        width = toks.shape[1]
        lo = valid.argmax(axis=1)
        hi = width - valid[:, ::-1].argmax(axis=1)
        names = np.array(self.vocab.strings(np.where(valid, toks, 0).ravel()), dtype=object).reshape(
            toks.shape
        )
        rows = zip(
            toks.tolist(),
            acts.tolist(),
            names.tolist(),
            lo.tolist(),
            hi.tolist(),
            w.context[slots, js].tolist(),
            w.position[slots, js].tolist(),
            kinds,
            strict=True,
        )
        return [
            {
                "feature": feature,
                "kind": kind["kind"],
                "bin": kind.get("bin"),
                "bin_range": kind.get("bin_range"),
                "rank": kind["rank"],
                "context": ctx,
                "position": pos,
                "tokens": n[a:b],
                "token_ids": t[a:b],
                "activations": v[a:b],
                "max_position": self.left - a,
                "max_activation": v[self.left],
            }
            for t, v, n, a, b, ctx, pos, kind in rows
        ]

    def top_examples(self, f: int) -> list[ExampleRow]:
        js = np.flatnonzero(self.top.filled[f])
        kinds = [{"kind": "top", "rank": int(j)} for j in js]
        return self._examples(self.top, np.full(len(js), f), js, f, kinds)

    def quantile_examples(self, f: int) -> list[ExampleRow]:
        q, w = self.fp.quantiles, self.quant
        if q is None or w is None or self.cfg.n_quantiles == 0:
            return []
        slots = f * q.n_buckets + np.arange(q.n_buckets)
        occupied = np.flatnonzero(w.filled[slots, 0])
        if len(occupied) > self.cfg.n_quantiles:
            pick = np.round(np.linspace(0, len(occupied) - 1, self.cfg.n_quantiles)).astype(int)
            occupied = occupied[np.unique(pick)]
        slot_idx, j_idx, kinds = [], [], []
        for b, bucket in enumerate(occupied.tolist()):
            slot = int(slots[bucket])
            lo, hi = q.bucket_range(bucket)
            lo = min(lo, float(self.min[f])) if bucket == 0 else lo
            hi = max(hi, float(np.nextafter(self.max[f], np.inf))) if bucket == q.n_buckets - 1 else hi
            js = np.flatnonzero(w.filled[slot])
            js = js[np.argsort(-w.value[slot, js], kind="stable")]
            for rank, j in enumerate(js.tolist()):
                slot_idx.append(slot)
                j_idx.append(j)
                kinds.append({"kind": "quantile", "bin": b, "bin_range": (lo, hi), "rank": rank})
        return self._examples(
            w, np.array(slot_idx, dtype=np.int64), np.array(j_idx, dtype=np.int64), f, kinds
        )

    # ---------------------------------------------------------------------------------------------- labels

    def _evidence(self, f: int, tops: Sequence[ExampleRow]) -> LabelEvidence:
        sl = self.by_feature.of(f)
        fires = self.by_feature.fires_label[sl]
        cand = slice(sl.start, min(sl.stop, sl.start + MAX_EVIDENCE_TOKENS))
        ids, n_fires = self.by_feature.token[cand], self.by_feature.fires_label[cand]
        ids, n_fires = ids[n_fires > 0], n_fires[n_fires > 0]
        tokens = [
            TokenEvidence(token_id=t, token=name, fires=n, occurrences=c)
            for t, name, n, c in zip(
                ids.tolist(),
                self.vocab.strings(ids),
                n_fires.tolist(),
                self.table.count_label[ids].tolist(),
                strict=True,
            )
        ]
        every = self.fp.settings.heldout_every
        contexts = [(x["tokens"], x["max_position"]) for x in tops if x["context"] % every != every - 1]
        promotes = self.vocab.strings(self.geometry.top_ids[f][:5])
        return LabelEvidence(
            index=f, n_fires=int(fires.sum()), tokens=tokens, contexts=contexts, promotes=promotes
        )

    def _scores(self, f: int, label: Label) -> tuple[list[Score], int]:
        """Named scores of the label's token rule vs firing on held-out tokens, and the held-out firing count."""
        sl = self.by_feature.of(f)
        held_fires = self.by_feature.fires_heldout[sl]
        in_label = np.isin(self.by_feature.token[sl], list(label.token_ids))
        ids = np.array(sorted(label.token_ids), dtype=np.int64)
        ids = ids[ids < len(self.table.count_heldout)]
        predicted = int(self.table.count_heldout[ids].sum())
        support = int(held_fires.sum())
        return token_rule_scores(int(held_fires[in_label].sum()), predicted, support), support

    # ---------------------------------------------------------------------------------------------- features

    def _token_values(self, ids: np.ndarray, values: np.ndarray) -> list[dict[str, Any]]:
        """TokenValue fields as dicts (validated in one go with their FeatureRecord, much faster than one by one)."""
        strings = self.vocab.strings(np.asarray(ids))
        return [
            {"token": t, "token_id": i, "value": v}
            for t, i, v in zip(strings, np.asarray(ids).tolist(), np.asarray(values).tolist(), strict=True)
        ]

    def _top_tokens(self, f: int) -> list[dict[str, Any]]:
        sl = self.by_feature.of(f)
        fires = self.by_feature.fires_label[sl] + self.by_feature.fires_heldout[sl]
        order = np.argsort(-fires, kind="stable")[:N_TOP_TOKENS]
        tokens = self.by_feature.token[sl][order]
        return self._token_values(tokens, fires[order] / max(int(self.count[f]), 1))

    def feature(self, f: int) -> tuple[FeatureRecord, list[ExampleRow]]:
        """One feature's record and its examples (as rows; ``ExampleRecord(**row)`` validates one)."""
        g = self.geometry
        dead = int(self.count[f]) == 0
        tops = [] if dead else self.top_examples(f)
        examples = tops + ([] if dead else self.quantile_examples(f))
        label = score = None
        scores: list[Score] = []
        support = 0
        if not dead:
            label = self.labeller.label(self._evidence(f, tops))
            scores, support = self._scores(f, label)
            score = next(s.value for s in scores if s.name == "F1")
        density = float(self.density[f])
        record = FeatureRecord.model_validate(
            dict(
                index=f,
                n_active=int(self.count[f]),
                density=density,
                log10_density=float(np.log10(density)) if density > 0 else None,
                mean_activation=float(self.mean[f]),
                max_activation=float(self.max[f]),
                dead=dead,
                dense=density > self.cfg.dense_threshold,
                histogram=self.fp.stats.histogram(f, self.cfg.histogram_bins),
                top_tokens=self._top_tokens(f),
                top_logits=self._token_values(g.top_ids[f], g.top_logits[f]),
                bottom_logits=self._token_values(g.bottom_ids[f], g.bottom_logits[f]),
                decoder_neighbours=[
                    {"index": i, "score": c}
                    for i, c in zip(g.neighbour_idx[f].tolist(), g.neighbour_cos[f].tolist(), strict=True)
                ],
                coactivation_neighbours=[{"index": i, "score": s} for i, s in self.coact.get(f, [])],
                label=label.text if label else None,
                label_description=label.description if label else None,
                label_score=score,
                grade=grade_of(score, support),
                label_method=label.method if label else None,
                label_model=label.model if label else None,
                label_scores=scores,
                map_x=None if g.map_xy is None else float(g.map_xy[f, 0]),
                map_y=None if g.map_xy is None else float(g.map_xy[f, 1]),
            )
        )
        return record, examples

    def token_index(self) -> list[TokenIndexRecord]:
        """Per occurring token id, the features with the highest mean activation on it."""
        t = self.table
        counts = t.count_label + t.count_heldout
        bounds = np.flatnonzero(np.diff(t.token)) + 1
        groups = {
            int(g[0]): (s, s + len(g))
            for g, s in zip(np.split(t.token, bounds), np.r_[0, bounds], strict=True)
            if len(g)
        }
        out = []
        n = self.cfg.token_index_features
        for tok in np.flatnonzero(counts):
            c = int(counts[tok])
            lo, hi = groups.get(int(tok), (0, 0))
            mean = t.sums[lo:hi] / c
            order = np.argsort(-mean, kind="stable")[:n]
            fires = t.fires_label[lo:hi] + t.fires_heldout[lo:hi]
            feats = [
                TokenFeature(
                    index=int(t.feature[lo + i]),
                    mean_activation=float(mean[i]),
                    fire_fraction=float(fires[i] / c),
                )
                for i in order
            ]
            out.append(
                TokenIndexRecord(token_id=int(tok), token=self.vocab[int(tok)], count=c, features=feats)
            )
        return out
