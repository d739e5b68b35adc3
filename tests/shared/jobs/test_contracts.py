"""Task contracts: names, queues and id-only payloads; enqueueing by name through a real Redis broker."""

from __future__ import annotations

import json

import pytest
import redis
from pydantic import ValidationError
from support.fixtures import use_settings

from shared.jobs.contracts import (
    ANALYSE,
    COLLECT,
    EVALUATE,
    EXPLAIN,
    IMPORT,
    QUEUES,
    SWEEP,
    TRAIN,
    CollectPayload,
    ExplainPayload,
    TrainPayload,
    celery_config,
    enqueue,
    parse_payload,
)

pytestmark = pytest.mark.services


def test_task_names_and_queues_are_the_contract() -> None:
    assert QUEUES == {
        COLLECT: "collector", TRAIN: "trainer", EVALUATE: "trainer", ANALYSE: "analyser", IMPORT: "collector",
        SWEEP: "trainer", EXPLAIN: "analyser",
    }  # fmt: skip
    assert (COLLECT, TRAIN, EVALUATE, ANALYSE, IMPORT, SWEEP, EXPLAIN) == (
        "saelab.collect",
        "saelab.train",
        "saelab.evaluate",
        "saelab.analyse",
        "saelab.import",
        "saelab.sweep",
        "saelab.explain",
    )


def test_the_collector_worker_runs_imports() -> None:
    from services.collector.celery_app import app

    app.loader.import_default_modules()  # what a starting worker does
    assert {COLLECT, IMPORT} <= set(app.tasks)


def test_the_analyser_worker_runs_explanations() -> None:
    from services.analyser.celery_app import app

    app.loader.import_default_modules()  # what a starting worker does
    assert {ANALYSE, EXPLAIN} <= set(app.tasks)
    assert parse_payload(EXPLAIN, {"job_id": "j", "run_id": "r"}) == ExplainPayload(job_id="j", run_id="r")


def test_payloads_carry_ids_only() -> None:
    assert parse_payload(TRAIN, {"job_id": "j", "run_id": "r"}) == TrainPayload(job_id="j", run_id="r")
    with pytest.raises(ValidationError, match="config"):
        parse_payload(TRAIN, {"job_id": "j", "run_id": "r", "config": {"d_sae": 8}})
    with pytest.raises(ValueError, match="unknown task 'saelab.nope'"):
        parse_payload("saelab.nope", {"job_id": "j"})


def test_reliability_settings_of_every_worker_app(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, broker_url="redis://127.0.0.1:6379/0", broker_visibility_timeout=42)
    from services.trainer.celery_app import app
    from shared.settings import get_settings

    conf = celery_config(get_settings())
    assert (
        conf["task_acks_late"]
        and conf["task_reject_on_worker_lost"]
        and conf["worker_prefetch_multiplier"] == 1
    )
    assert conf["broker_transport_options"]["visibility_timeout"] == 42
    assert app.conf.task_acks_late and app.conf.task_routes[TRAIN] == {"queue": "trainer"}
    app.loader.import_default_modules()  # what a starting worker does
    assert {TRAIN, EVALUATE} <= set(app.tasks)


def test_enqueue_by_name_lands_on_the_stage_queue(monkeypatch: pytest.MonkeyPatch, redis_server) -> None:  # noqa: ANN001
    use_settings(monkeypatch, broker_url=redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    client.delete("trainer", "collector")
    enqueue(TRAIN, TrainPayload(job_id="job-1", run_id="run-1"))
    enqueue(COLLECT, CollectPayload(job_id="job-2", dataset_id="ds-1"))
    (raw,) = client.lrange("trainer", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "saelab.train"
    assert client.llen("collector") == 1
    with pytest.raises(TypeError, match="TrainPayload"):
        enqueue(TRAIN, CollectPayload(job_id="j", dataset_id="d"))


def test_embedded_mode_without_a_worker_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, broker_url="")
    with pytest.raises(RuntimeError, match="EmbeddedWorker"):
        enqueue(TRAIN, TrainPayload(job_id="j", run_id="r"))


def test_a_worker_without_n_gets_a_node_name_of_its_own() -> None:
    """Celery's default node name (celery@<host>) is the same for every worker on a host; saelab's is not."""
    import socket

    from shared.jobs.celery_app import unique_nodename

    host = socket.gethostname()
    assert unique_nodename(None, "trainer", pid=42) == f"trainer-42@{host}"
    assert unique_nodename(f"celery@{host}", "collector", pid=7) == f"collector-7@{host}"  # Celery's default
    assert unique_nodename("worker@pod-1", "trainer", pid=42) == "worker@pod-1"  # an explicit -n is kept
    names = {
        unique_nodename(None, service, pid)
        for service in ("collector", "trainer", "analyser")
        for pid in (1, 2)
    }
    assert len(names) == 6
