"""Turn the state of a finished pass (plus decoder geometry and a labeller) into the shared result records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from shared.config import AnalyseConfig
from shared.features import (
    ExampleRecord,
    FeatureRecord,
    FeatureRef,
    TokenFeature,
    TokenIndexRecord,
    TokenValue,
)

from .accumulate import FeaturePass
from .labels import Label, LabelEvidence, Labeller, TokenEvidence, f1, grade_of
from .token_stats import TokenTable

Decode = Callable[[list[int]], list[str]]
"""Token ids -> decoded token strings (``LanguageModel.token_strings``)."""

N_TOP_TOKENS = 10


class Vocab:
    """Decoded token strings, decoded in bulk once and cached."""

    def __init__(self, decode: Decode) -> None:
        self._decode = decode
        self._cache: dict[int, str] = {}

    def prefetch(self, ids: np.ndarray) -> None:
        missing = [int(i) for i in np.unique(ids) if i >= 0 and int(i) not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._decode(missing), strict=True))

    def __getitem__(self, token_id: int) -> str:
        if token_id not in self._cache:
            self.prefetch(np.array([token_id]))
        return self._cache[token_id]


@dataclass
class Geometry:
    """Decoder-derived per-feature arrays (numpy, ``[d_sae, n]``)."""

    neighbour_idx: np.ndarray
    neighbour_cos: np.ndarray
    top_ids: np.ndarray
    top_logits: np.ndarray
    bottom_ids: np.ndarray
    bottom_logits: np.ndarray


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
        self.entries = self.table.by_feature()
        self.coact = fp.coact.neighbours(cfg.n_neighbours)
        self.vocab.prefetch(np.concatenate([a.ravel() for a in self._all_token_ids()]))

    def _all_token_ids(self) -> list[np.ndarray]:
        occurring = np.flatnonzero(self.table.count_label + self.table.count_heldout)
        ids = [self.top.tokens, occurring, self.geometry.top_ids, self.geometry.bottom_ids]
        if self.quant is not None:
            ids.append(self.quant.tokens)
        return ids

    # ---------------------------------------------------------------------------------------------- examples

    def _example(self, w: _Windows, slot: int, j: int, feature: int, **kind: object) -> ExampleRecord:
        toks, acts = w.tokens[slot, j], w.acts[slot, j]
        valid = np.flatnonzero(toks >= 0)
        lo, hi = int(valid[0]), int(valid[-1]) + 1
        return ExampleRecord(
            feature=feature,
            context=int(w.context[slot, j]),
            position=int(w.position[slot, j]),
            tokens=[self.vocab[int(t)] for t in toks[lo:hi]],
            token_ids=[int(t) for t in toks[lo:hi]],
            activations=[float(a) for a in acts[lo:hi]],
            max_position=self.left - lo,
            max_activation=float(acts[self.left]),
            **kind,  # type: ignore[arg-type]
        )

    def top_examples(self, f: int) -> list[ExampleRecord]:
        return [
            self._example(self.top, f, int(j), f, kind="top", rank=int(j))
            for j in np.flatnonzero(self.top.filled[f])
        ]

    def quantile_examples(self, f: int) -> list[ExampleRecord]:
        q, w = self.fp.quantiles, self.quant
        if q is None or w is None or self.cfg.n_quantiles == 0:
            return []
        slots = f * q.n_buckets + np.arange(q.n_buckets)
        occupied = np.flatnonzero(w.filled[slots, 0])
        if len(occupied) > self.cfg.n_quantiles:
            pick = np.round(np.linspace(0, len(occupied) - 1, self.cfg.n_quantiles)).astype(int)
            occupied = occupied[np.unique(pick)]
        out = []
        for b, bucket in enumerate(occupied):
            slot = int(slots[bucket])
            lo, hi = q.bucket_range(int(bucket))
            lo = min(lo, float(self.min[f])) if bucket == 0 else lo
            hi = max(hi, float(np.nextafter(self.max[f], np.inf))) if bucket == q.n_buckets - 1 else hi
            js = np.flatnonzero(w.filled[slot])
            js = js[np.argsort(-w.value[slot, js], kind="stable")]
            for rank, j in enumerate(js):
                out.append(
                    self._example(w, slot, int(j), f, kind="quantile", bin=b, bin_range=(lo, hi), rank=rank)
                )
        return out

    # ---------------------------------------------------------------------------------------------- labels

    def _evidence(self, f: int, tops: Sequence[ExampleRecord]) -> LabelEvidence:
        e = self.entries.get(f, np.zeros(0, dtype=np.int64))
        fires = self.table.fires_label[e]
        order = np.lexsort((-self.table.fires_heldout[e], -fires))
        tokens = [
            TokenEvidence(
                token_id=int(t),
                token=self.vocab[int(t)],
                fires=int(n),
                count=int(self.table.count_label[t]),
            )
            for t, n in zip(self.table.token[e][order], fires[order], strict=True)
            if n > 0
        ]
        every = self.fp.settings.heldout_every
        held = [x.context % every == every - 1 for x in tops]
        contexts = [(x.tokens, x.max_position) for x, h in zip(tops, held, strict=True) if not h]
        promotes = [self.vocab[int(t)] for t in self.geometry.top_ids[f][:5]]
        return LabelEvidence(
            index=f, n_fires=int(fires.sum()), tokens=tokens, contexts=contexts, promotes=promotes
        )

    def _score(self, f: int, label: Label) -> tuple[float | None, int]:
        """F1 of the label's tokens vs firing on held-out tokens, and the held-out firing count behind it."""
        e = self.entries.get(f, np.zeros(0, dtype=np.int64))
        held_fires = self.table.fires_heldout[e]
        in_label = np.isin(self.table.token[e], list(label.token_ids))
        ids = np.array(sorted(label.token_ids), dtype=np.int64)
        ids = ids[ids < len(self.table.count_heldout)]
        predicted = int(self.table.count_heldout[ids].sum())
        support = int(held_fires.sum())
        return f1(int(held_fires[in_label].sum()), predicted, support), support

    # ---------------------------------------------------------------------------------------------- features

    def _token_values(self, ids: np.ndarray, values: np.ndarray) -> list[TokenValue]:
        return [
            TokenValue(token=self.vocab[int(i)], token_id=int(i), value=float(v))
            for i, v in zip(ids, values, strict=True)
        ]

    def _top_tokens(self, f: int) -> list[TokenValue]:
        e = self.entries.get(f, np.zeros(0, dtype=np.int64))
        fires = self.table.fires_label[e] + self.table.fires_heldout[e]
        order = np.argsort(-fires, kind="stable")[:N_TOP_TOKENS]
        return self._token_values(self.table.token[e][order], fires[order] / max(int(self.count[f]), 1))

    def feature(self, f: int) -> tuple[FeatureRecord, list[ExampleRecord]]:
        """One feature's record and its examples."""
        g = self.geometry
        dead = int(self.count[f]) == 0
        tops = [] if dead else self.top_examples(f)
        examples = tops + ([] if dead else self.quantile_examples(f))
        label = score = None
        support = 0
        if not dead:
            label = self.labeller.label(self._evidence(f, tops))
            score, support = self._score(f, label)
        density = float(self.density[f])
        record = FeatureRecord(
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
                FeatureRef(index=int(i), score=float(c))
                for i, c in zip(g.neighbour_idx[f], g.neighbour_cos[f], strict=True)
            ],
            coactivation_neighbours=[FeatureRef(index=i, score=s) for i, s in self.coact.get(f, [])],
            label=label.text if label else None,
            label_description=label.description if label else None,
            label_score=score,
            grade=grade_of(score, support),
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
