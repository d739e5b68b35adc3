"""Gateway fixtures: every test runs against a seeded SQLite database and its own SAELAB_* settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import (
    GraphQL,
    Recorder,
    Seeded,
    Server,
    make_state,
    seed_database,
    serve_in_thread,
    use_database,
)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A seeded database shared by the read-only tests (never modify it)."""
    root = tmp_path_factory.mktemp("gateway-db")
    return seed_database(f"sqlite:///{root / 'saelab.db'}", root / "artifacts")


@pytest.fixture
def fresh(tmp_path: Path) -> Seeded:
    """A seeded database of this test alone (for mutations)."""
    return seed_database(f"sqlite:///{tmp_path / 'saelab.db'}", tmp_path / "artifacts")


@pytest.fixture(autouse=True)
def _clear_settings() -> Iterator[None]:
    from shared.settings import get_settings

    yield
    get_settings.cache_clear()


@pytest.fixture
def speed_layer_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed layer on whatever SAELAB_GATEWAY_FAST_PATHS says (the tests of the layer itself use it)."""
    monkeypatch.setenv("SAELAB_GATEWAY_FAST_PATHS", "1")


@pytest.fixture
def state(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Any:
    use_database(monkeypatch, seeded)
    return make_state(seeded)


@pytest.fixture
def gql(state: Any) -> GraphQL:
    return GraphQL(state)


@pytest.fixture
def server(state: Any) -> Iterator[Server]:
    """The real app (no worker) served by uvicorn on a free port."""
    from services.gateway.app import create_app

    uv, thread, port = serve_in_thread(create_app(state=state, start_worker=False))
    try:
        yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", state)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """The in-process worker replaced by a recorder of what would run."""
    from shared.jobs.contracts import set_local_dispatcher

    rec = Recorder()
    set_local_dispatcher(rec)
    yield rec
    set_local_dispatcher(None)
