"""Repositories on SQLite and PostgreSQL: idempotent bulk analysis, explorer sorts, search, labels, metrics, claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from support.reads import (
    count_metric_rows,
    feature_record,
    get_examples,
    get_metrics,
    get_neighbours,
    list_features,
)

from shared.db.models import utcnow
from shared.db.prestart import upgrade
from shared.db.repositories.analysis import AnalysisCounts, replace_run_analysis
from shared.db.repositories.common import NotFound
from shared.db.repositories.datasets import get_or_create_dataset
from shared.db.repositories.features import FeatureFilter, get_feature
from shared.db.repositories.jobs import claim_job, create_job, get_job, heartbeat_job, update_job_progress
from shared.db.repositories.labels import relabel_feature
from shared.db.repositories.metrics import upsert_metrics
from shared.db.repositories.pipelines import create_pipeline
from shared.db.repositories.runs import get_or_create_run, get_run
from shared.db.repositories.search import search_features, token_features
from shared.db.session import dispose_engines, session_scope
from shared.features import (
    ExampleRecord,
    FeatureRecord,
    FeatureRef,
    Histogram,
    RunSummary,
    TokenFeature,
    TokenIndexRecord,
    TokenValue,
)

pytestmark = pytest.mark.services

WORDS = ["cat", "dog", "mouse", "tree", "rain", "ship", "moon", "bread"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        db = f"sqlite:///{tmp_path / 'repo.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        db = server.create_database()
    upgrade(db)
    with session_scope(db) as s:
        get_or_create_dataset(s, "d1", {"model": "tiny", "hook": "blocks.1.hook_resid_pre"})
        get_or_create_run(s, "r1", "d1", {"architecture": "relu", "d_sae": len(WORDS)})
        get_or_create_run(s, "r2", "d1", {"architecture": "topk", "d_sae": 4})
    yield db
    dispose_engines()
    if request.param == "postgresql":
        server.drop_database(db)


def feature(i: int, word: str, label: str | None = None) -> FeatureRecord:
    dead = i == 7
    return FeatureRecord(
        index=i,
        n_active=0 if dead else 10 * (i + 1),
        density=0.0 if dead else 0.01 * (i + 1),
        log10_density=None if dead else -2.0 + i * 0.1,
        mean_activation=0.0 if dead else 1.0 + i,
        max_activation=0.0 if dead else float((i * 3) % 8),
        dead=dead,
        dense=False,
        histogram=Histogram(edges=[0.1, 1.0, 10.0], counts=[i, 2 * i], zero_fraction=0.9),
        top_tokens=[TokenValue(token=f" {word}", token_id=100 + i, value=0.8)],
        top_logits=[TokenValue(token=f" {word}s", token_id=200 + i, value=3.5), TokenValue(token="!", token_id=0, value=1.0)],
        bottom_logits=[TokenValue(token=" the", token_id=262, value=-2.0)],
        decoder_neighbours=[FeatureRef(index=(i + 1) % len(WORDS), score=0.5)],
        coactivation_neighbours=[FeatureRef(index=(i + 2) % len(WORDS), score=0.25)],
        label=None if dead else (label or f"'{word}' tokens"),
        label_description=None if dead else f"fires on {word}",
        label_score=None if dead else 0.1 * i,
        grade=None if dead else ("High" if i % 2 else "Low"),
        map_x=i / 10,
        map_y=1 - i / 10,
    )  # fmt: skip


def examples(i: int, word: str) -> list[ExampleRecord]:
    tokens = ["The", " small", f" {word}", " ran"]
    top = [
        ExampleRecord(feature=i, kind="top", rank=r, context=r, position=2, tokens=tokens, token_ids=[1, 2, 3, 4],
                      activations=[0.0, 0.1, 2.0 - r, 0.0], max_position=2, max_activation=2.0 - r)
        for r in range(2)
    ]  # fmt: skip
    quantile = ExampleRecord(feature=i, kind="quantile", bin=0, bin_range=(0.0, 0.5), rank=0, context=9, position=1,
                             tokens=tokens, token_ids=[1, 2, 3, 4], activations=[0, 0.3, 0, 0], max_position=1,
                             max_activation=0.3)  # fmt: skip
    return [*top, quantile]


def summary() -> RunSummary:
    return RunSummary(run="r1", model_name="tiny", hook_name="blocks.1.hook_resid_pre", architecture="relu", d_in=8,
                      d_sae=len(WORDS), activations_path="x", n_tokens=1000, n_contexts=10, n_dead=1, n_dense=0,
                      n_alive=7, dense_threshold=0.1, density_histogram=Histogram(edges=[-3, -1], counts=[7]),
                      top_by_density=[], top_by_max_activation=[], created_at="2026-01-01T00:00:00Z", seconds=1.0,
                      tokens_per_s=1000.0)  # fmt: skip


def load(url: str, run_id: str = "r1", label_of: dict[int, str] | None = None) -> AnalysisCounts:
    label_of = label_of or {}
    with session_scope(url) as s:
        return replace_run_analysis(
            s,
            run_id,
            features=(feature(i, w, label_of.get(i)) for i, w in enumerate(WORDS)),
            examples=(e for i, w in enumerate(WORDS) if i != 7 for e in examples(i, w)),
            token_index=[
                TokenIndexRecord(
                    token_id=100 + i,
                    token=f" {w}",
                    count=5,
                    features=[TokenFeature(index=i, mean_activation=1.5, fire_fraction=0.9)],
                )
                for i, w in enumerate(WORDS)
            ],  # fmt: skip
            summary=summary(),
        )


def test_reanalysis_replaces_rows_instead_of_duplicating(url: str) -> None:
    first = load(url)
    second = load(url)
    assert first == second == AnalysisCounts(features=8, examples=21, neighbours=16, logits=24, tokens=8)
    with session_scope(url) as s:
        rows, total = list_features(s, "r1", limit=100)
        assert total == 8 and [f.feature_index for f in rows] == list(range(8))
        assert list_features(s, "r2")[1] == 0  # other runs untouched
        assert get_run(s, "r1").summary["n_dead"] == 1  # type: ignore[index]


def test_feature_records_round_trip(url: str) -> None:
    load(url)
    with session_scope(url) as s:
        for i, w in enumerate(WORDS):
            assert feature_record(s, "r1", i) == feature(i, w)
        ex = get_examples(s, "r1", [2, 7])
        assert ex[2] == examples(2, WORDS[2]) and ex[7] == []
        assert get_neighbours(s, "r1", [3], "coactivation")[3] == [FeatureRef(index=5, score=0.25)]
        assert feature_record(s, "r1", 99) is None


def test_explorer_sorts_filters_and_pages(url: str) -> None:
    load(url)
    with session_scope(url) as s:
        by_max, total = list_features(s, "r1", sort="max_activation", descending=True, limit=3)
        values = [f.max_activation for f in by_max]
        assert total == 8 and values == sorted(values, reverse=True) and len(values) == 3
        page2, _ = list_features(s, "r1", sort="density", limit=3, offset=3)
        assert [f.feature_index for f in page2] == [2, 3, 4]  # density ascending: 7 (dead, 0) first
        scored, _ = list_features(s, "r1", sort="label_score", descending=True, limit=8)
        assert scored[0].feature_index == 6 and scored[-1].feature_index == 7  # None sorts last
        high, n_high = list_features(s, "r1", flt=FeatureFilter(grades=("High",)))
        assert n_high == 3 and all(f.grade == "High" for f in high)
        dense, n = list_features(s, "r1", flt=FeatureFilter(min_density=0.03, max_density=0.05))
        assert n == 3 and {f.feature_index for f in dense} == {2, 3, 4}
        _, n_alive = list_features(s, "r1", flt=FeatureFilter(include_dead=False))
        assert n_alive == 7
        moon, _ = list_features(s, "r1", flt=FeatureFilter(label_contains="MOON"))
        assert [f.feature_index for f in moon] == [6]


def test_search_ranks_label_matches_first_and_follows_relabels(url: str) -> None:
    load(url, label_of={5: "ship and mouse"})
    with session_scope(url) as s:
        hits = search_features(s, "r1", "mouse")
        assert [i for i, _ in hits][:2] == [2, 5] or [i for i, _ in hits][:2] == [5, 2]
        assert {i for i, _ in hits} == {2, 5}
        assert [i for i, _ in search_features(s, "r1", "sh")] == [5]  # prefix match
        assert search_features(s, "r1", "  ") == [] and search_features(s, "r2", "mouse") == []
        assert search_features(s, "r1", "ship mouse")[0][0] == 5  # every word must match
        relabel_feature(s, "r1", 0, "whiskers detector")
    with session_scope(url) as s:
        assert [i for i, _ in search_features(s, "r1", "whiskers")] == [0]


def test_human_labels_survive_reanalysis(url: str) -> None:
    load(url)
    with session_scope(url) as s:
        relabel_feature(s, "r1", 3, "rainy weather", description="checked by hand")
    load(url)
    with session_scope(url) as s:
        f = get_feature(s, "r1", 3)
        assert f is not None and (f.label, f.label_source, f.label_description) == (
            "rainy weather", "human", "checked by hand")  # fmt: skip
        with pytest.raises(ValueError, match="label"):
            relabel_feature(s, "r1", 3, "   ")
        with pytest.raises(NotFound, match="feature 42"):
            relabel_feature(s, "r1", 42, "nope")


def test_token_index_lookup(url: str) -> None:
    load(url)
    with session_scope(url) as s:
        entry = token_features(s, "r1", "mouse")
        assert entry is not None and entry.token == " mouse" and entry.features[0].index == 2
        assert token_features(s, "r1", "zebra") is None


def test_metrics_are_unique_per_run_step_and_name(url: str) -> None:
    with session_scope(url) as s:
        assert (
            upsert_metrics(s, "r1", 10, {"step": 10, "loss": 2.0, "l0": 30, "note": "x", "bad": float("nan")})
            == 2
        )
        upsert_metrics(s, "r1", 20, {"loss": 1.5, "l0": 25})
    with session_scope(url) as s:  # a resumed run logs step 20 again
        upsert_metrics(s, "r1", 20, {"loss": 1.4, "l0": 24})
    with session_scope(url) as s:
        assert count_metric_rows(s, "r1") == 4
        assert get_metrics(s, "r1") == {"l0": [(10, 30.0), (20, 24.0)], "loss": [(10, 2.0), (20, 1.4)]}
        assert get_metrics(s, "r1", names=["loss"]) == {"loss": [(10, 2.0), (20, 1.4)]}


def test_claiming_a_job_is_exclusive_until_its_heartbeat_goes_stale(url: str) -> None:
    with session_scope(url) as s:
        pipeline = create_pipeline(s, [{"kind": "train", "config": {}}], "d1", "r1")
        job = create_job(s, "train", pipeline_id=pipeline.id, dataset_id="d1", run_id="r1")
    long_ago = utcnow() - timedelta(minutes=5)
    with session_scope(url) as s:
        assert claim_job(s, job.id, "w1", stale_before=long_ago) is not None
    with session_scope(url) as s:
        assert claim_job(s, job.id, "w2", stale_before=long_ago) is None  # w1's heartbeat is fresh
        assert heartbeat_job(s, job.id, "w1") and not heartbeat_job(s, job.id, "w2")
    with session_scope(url) as s:
        claimed = claim_job(s, job.id, "w2", stale_before=utcnow() + timedelta(seconds=1))
        assert claimed is not None and (claimed.worker, claimed.attempts) == ("w2", 2)
        assert update_job_progress(s, job.id, "w1", 0.5, "late").owned is False
        control = update_job_progress(s, job.id, "w2", 1.7, "nearly")
        assert control.owned and not control.cancel_requested and get_job(s, job.id).progress == 1.0


def test_json_columns_decode_fast_and_keep_what_orjson_refuses(url: str) -> None:
    """JSON columns are read with orjson (shared.db.session.json_loads); on SQLite a NaN that the standard-library
    serializer wrote (orjson refuses it) still reads, through the standard-library fallback."""
    import json
    import math

    from shared.db import models as m
    from shared.db.session import get_engine, json_loads

    assert get_engine(url).dialect._json_deserializer is json_loads
    assert json_loads(b'{"a": [1.5, -2, "x"]}') == json.loads('{"a": [1.5, -2, "x"]}')
    assert math.isnan(json_loads("[NaN]")[0]) and json_loads("[Infinity]") == [math.inf]
    values = {"lr": 3e-4, "eps": [1e-8], "name": "ü"}
    if url.startswith("sqlite"):
        values["nan"] = math.nan  # PostgreSQL refuses NaN in JSON at write time
    with session_scope(url) as s:
        run = s.get(m.Run, "r1")
        assert run is not None
        run.config = {**run.config, **values}
    with session_scope(url) as s:
        config = s.get(m.Run, "r1").config  # type: ignore[union-attr]
        assert config["lr"] == 3e-4 and config["eps"] == [1e-8] and config["name"] == "ü"
        assert url.startswith("postgresql") or math.isnan(config["nan"])


def test_get_or_create_survives_losing_the_insert_race(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two submissions of the same pipeline: both look, both miss, the second insert must not fail (issue 17)."""
    from shared.db.models import Dataset, Run

    with session_scope(url) as winner:
        get_or_create_dataset(winner, "d-race", {"model": "tiny"}, name="first")
        get_or_create_run(winner, "r-race", "d-race", {"architecture": "relu"}, name="first")
    with session_scope(url) as loser:
        real_get = loser.get
        missed: set[type] = set()

        def stale_get(cls: type, key: str) -> object:  # the loser looked before the winner committed
            if cls not in missed:
                missed.add(cls)
                return None
            return real_get(cls, key)

        monkeypatch.setattr(loser, "get", stale_get)
        dataset = get_or_create_dataset(loser, "d-race", {"model": "tiny"}, name="second")
        run = get_or_create_run(loser, "r-race", "d-race", {"architecture": "relu"}, name="second")
        assert missed == {Dataset, Run}
        assert (dataset.name, run.name) == ("first", "first")
        get_or_create_run(loser, "r-other", "d-race", {"architecture": "relu"})  # the session still works
    with session_scope(url) as s:
        assert s.get(Run, "r-other") is not None
