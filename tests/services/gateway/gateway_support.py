"""Gateway test support: a seeded database with known answers, the gateway state, GraphQL and server helpers.

The seeded run has ``N_FEATURES`` analysed features with known values (feature ``CAT`` is labelled "cat tokens",
fires on " cat" and is graded High; the last feature is dead), so tests can assert exact answers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.servers import free_port

from shared.explanations import OFFLINE_METHOD, token_rule_scores
from shared.features import (
    ExampleRecord,
    FeatureRecord,
    FeatureRef,
    FeatureScore,
    Histogram,
    RunSummary,
    TokenFeature,
    TokenIndexRecord,
    TokenValue,
)

N_FEATURES = 30
CAT, DOG, DEAD = 3, 5, N_FEATURES - 1
GRADES = ("High", "Medium", "Low")
TOKEN = "test-token-0123456789"


@dataclass
class Seeded:
    """Ids of what ``seed_database`` created."""

    url: str
    artifacts: Path
    dataset_id: str
    run_id: str
    pending_run_id: str
    pipeline_id: str
    job_ids: list[str]
    queued_job_id: str


def _label(i: int) -> str | None:
    if i == DEAD:
        return None
    return {CAT: "cat tokens", DOG: "dog and puppy"}.get(i, f"pattern {i} word{i}")


def feature_record(i: int) -> FeatureRecord:
    """The seeded feature ``i`` (deterministic values tests can recompute)."""
    dead = i == DEAD
    density = 0.0 if dead else (i + 1) / 100
    alive = [j for j in range(N_FEATURES) if j != DEAD and j != i]
    return FeatureRecord(
        index=i,
        n_active=0 if dead else (i + 1) * 10,
        density=density,
        log10_density=None if dead else math.log10(density),
        mean_activation=0.0 if dead else 1.0 + i / 10,
        max_activation=0.0 if dead else 10.0 - i * 0.25,
        dead=dead,
        dense=density > 0.25,
        histogram=Histogram(
            edges=[0.1, 1.0, 10.0], counts=[0, 0] if dead else [i, 2 * i], zero_fraction=1 - density
        ),
        top_tokens=[]
        if dead
        else [TokenValue(token=" cat" if i == CAT else f" w{i}", token_id=100 + i, value=0.9)],
        top_logits=[]
        if dead
        else [TokenValue(token=" kitten" if i == CAT else f" up{i}", token_id=200 + i, value=3.0)],
        bottom_logits=[] if dead else [TokenValue(token=f" down{i}", token_id=300 + i, value=-2.0)],
        decoder_neighbours=[]
        if dead
        else [FeatureRef(index=alive[k], score=0.9 - 0.1 * k) for k in range(3)],
        coactivation_neighbours=[]
        if dead
        else [FeatureRef(index=alive[-1 - k], score=0.5 - 0.1 * k) for k in range(2)],
        label=_label(i),
        label_score=None if dead else round(i / N_FEATURES, 4),
        grade=None if dead else GRADES[i % 3],
        label_method=None if dead else OFFLINE_METHOD,
        map_x=i / (N_FEATURES - 1),
        map_y=1 - i / (N_FEATURES - 1),
        label_scores=[] if dead else token_rule_scores(true_pos=i, predicted=i + 2, firings=2 * i + 1),
    )


def example_records(i: int) -> list[ExampleRecord]:
    if i == DEAD:
        return []
    word = " cat" if i == CAT else f" w{i}"
    out = []
    for rank in range(3):
        tokens = ["The", word, " sat", "."]
        acts = [0.0, 10.0 - i * 0.25 - rank, 0.5, 0.0]
        out.append(_example(i, "top", rank, tokens, acts))
    for b in range(2):
        out.append(_example(i, "quantile", 0, ["A", word, "!"], [0.0, 0.5 + b, 0.1], bin=b))
    return out


def _example(
    i: int, kind: str, rank: int, tokens: list[str], acts: list[float], bin: int | None = None
) -> ExampleRecord:
    return ExampleRecord(
        feature=i,
        kind=kind,  # type: ignore[arg-type]
        bin=bin,
        bin_range=None if bin is None else (float(bin), float(bin + 1)),
        rank=rank,
        context=rank,
        position=1,
        tokens=tokens,
        token_ids=list(range(len(tokens))),
        activations=acts,
        max_position=1,
        max_activation=max(acts),
    )


def _summary(run_id: str) -> RunSummary:
    return RunSummary(
        run=run_id,
        model_name="tiny",
        hook_name="blocks.1.hook_resid_pre",
        architecture="relu",
        d_in=64,
        d_sae=N_FEATURES,
        activations_path="datasets/x",
        n_tokens=1000,
        n_contexts=10,
        n_dead=1,
        n_dense=5,
        n_alive=N_FEATURES - 1,
        dense_threshold=0.25,
        density_histogram=Histogram(edges=[-2, -1, 0], counts=[10, 19]),
        top_by_density=[FeatureScore(index=28, value=0.29)],
        top_by_max_activation=[FeatureScore(index=0, value=10.0)],
        created_at="2026-01-01T00:00:00Z",
        seconds=1.0,
        tokens_per_s=1000.0,
    )


COLLECT = {"model": "tiny", "hook": "blocks.1.hook_resid_pre", "corpus": "stories.txt", "context_length": 16}
TRAIN = {"architecture": "relu", "d_sae": N_FEATURES, "n_steps": 10}


def seed_database(url: str, artifacts: Path) -> Seeded:
    """Migrate a fresh database at ``url`` and fill it with one analysed run, one pending run and some jobs."""
    from shared.db.models import JobStatus
    from shared.db.prestart import upgrade
    from shared.db.repositories.analysis import replace_run_analysis
    from shared.db.repositories.datasets import get_or_create_dataset, mark_dataset_ready
    from shared.db.repositories.jobs import create_job
    from shared.db.repositories.metrics import upsert_metrics
    from shared.db.repositories.pipelines import create_pipeline
    from shared.db.repositories.runs import get_or_create_run, mark_run_trained, set_run_eval
    from shared.db.session import session_scope

    upgrade(url)
    with session_scope(url) as s:
        get_or_create_dataset(s, "d" * 32, COLLECT, name="tiny stories")
        mark_dataset_ready(
            s, "d" * 32, {"d_in": 64, "n_contexts": 10, "context_length": 16, "corpus": "stories.txt"}
        )
        get_or_create_run(s, "r" * 32, "d" * 32, TRAIN, name="seeded run")
        mark_run_trained(s, "r" * 32, 10)
        set_run_eval(
            s,
            "r" * 32,
            {"explained_variance": 0.9, "l0": 7.5, "ce_loss_recovered": 0.8, "kl_div": 0.1, "ce_loss_sae": 3.2,
             "ce_loss_zero_ablation": 9.0, "sae": {"d_in": 64}},
            {},
        )  # fmt: skip
        get_or_create_run(s, "p" * 32, "d" * 32, {**TRAIN, "d_sae": 8}, name="pending run")
        for step in range(0, 10, 2):
            upsert_metrics(
                s, "r" * 32, step, {"loss": 10.0 - step, "l0": 5.0 + step, "explained_variance": step / 10}
            )
        pipeline = create_pipeline(
            s,
            [{"kind": "collect", "config": COLLECT}, {"kind": "train", "config": TRAIN}],
            "d" * 32,
            "r" * 32,
        )
        collect = create_job(s, "collect", pipeline_id=pipeline.id, dataset_id="d" * 32, run_id="r" * 32)
        train = create_job(s, "train", pipeline_id=pipeline.id, dataset_id="d" * 32, run_id="r" * 32)
        for job, status in ((collect, JobStatus.succeeded), (train, JobStatus.succeeded)):
            job.status, job.progress = status.value, 1.0
        queued = create_job(s, "analyse", dataset_id="d" * 32, run_id="p" * 32)
        replace_run_analysis(
            s,
            "r" * 32,
            features=[feature_record(i) for i in range(N_FEATURES)],
            examples=[e for i in range(N_FEATURES) for e in example_records(i)],
            token_index=[
                TokenIndexRecord(
                    token_id=9,
                    token=" cat",
                    count=5,
                    features=[
                        TokenFeature(index=CAT, mean_activation=4.0, fire_fraction=1.0),
                        TokenFeature(index=8, mean_activation=0.5, fire_fraction=0.2),
                    ],
                )
            ],
            summary=_summary("r" * 32),
        )
        ids = (pipeline.id, [collect.id, train.id], queued.id)
    return Seeded(url, artifacts, "d" * 32, "r" * 32, "p" * 32, ids[0], ids[1], ids[2])


def use_database(monkeypatch: pytest.MonkeyPatch, db: Seeded) -> None:
    """Point the SAELAB_* settings (read by shared.pipelines, events, store) at ``db``."""
    from shared.settings import get_settings

    monkeypatch.setenv("SAELAB_DATABASE_URL", db.url)
    monkeypatch.setenv("SAELAB_ARTIFACTS_DIR", str(db.artifacts))
    monkeypatch.setenv("SAELAB_API_TOKEN", TOKEN)
    for name in ("SAELAB_BROKER_URL", "SAELAB_EVENTS_URL", "SAELAB_S3_ENDPOINT", "SAELAB_ENV"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def make_state(db: Seeded, loader: Callable[[str], Any] | None = None, **overrides: Any) -> Any:
    """Gateway state over ``db`` with a fixed token; ``overrides`` change gateway settings."""
    from services.gateway.app import build_state
    from services.gateway.live import ModelCache
    from services.gateway.settings import GatewaySettings
    from shared.settings import Settings

    shared = Settings(database_url=db.url, artifacts_dir=db.artifacts, api_token=TOKEN)  # type: ignore[arg-type]
    state = build_state(GatewaySettings(**overrides), shared)
    if loader is not None:
        state.models = ModelCache(state.settings.model_cache_size, loader)
    return state


class GraphQL:
    """Runs operations through ``schema.execute`` with a context like the app builds."""

    def __init__(self, state: Any) -> None:
        from services.gateway.schema import build_schema

        self.state = state
        self.schema = build_schema(state.settings)

    def run(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        client: str = "test",
    ) -> Any:
        import asyncio

        from services.gateway.context import Context

        context = Context(self.state, client=client, authorization=f"Bearer {token}" if token else None)
        return asyncio.run(self.schema.execute(query, variable_values=variables, context_value=context))

    def data(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """The data of a successful operation (fails the test with the errors otherwise)."""
        result = self.run(query, variables, token)
        assert result.errors is None, [(e.message, e.extensions) for e in result.errors]
        return result.data

    def error(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """The single error of a failing operation."""
        result = self.run(query, variables, token)
        assert result.errors, f"expected an error, got {result.data}"
        return result.errors[0]


# --------------------------------------------------------------------------------------------------------------
# A real uvicorn server in a thread
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    ws_url: str
    state: Any


def serve_in_thread(app: Any) -> tuple[Any, threading.Thread, int]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="gateway-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test gateway did not start")
        time.sleep(0.02)
    return server, thread, port


@contextmanager
def count_statements(url: str) -> Iterator[list[str]]:
    """Collects every SQL statement sent to the database at ``url`` inside the block."""
    from sqlalchemy import event

    from shared.db.session import get_engine

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class Recorder:
    """Stands in for the in-process worker: records what would run."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, name: str, payload: Any, countdown: float = 0.0) -> None:
        self.sent.append((name, payload.model_dump()))
