"""Gateway fixtures: every test runs against a seeded SQLite database and its own SAELAB_* settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import (
    HOOK,
    N_FEATURES,
    GraphQL,
    Recorder,
    Seeded,
    Server,
    make_state,
    seed_database,
    serving,
    use_database,
)

from shared.jobs.contracts import set_local_dispatcher


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
    with serving(state) as srv:
        yield srv


@pytest.fixture
def mutable_server(fresh: Seeded, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The real app over a database of this test alone (for mutations)."""
    use_database(monkeypatch, fresh)
    with serving(make_state(fresh)) as srv:
        yield srv


@pytest.fixture
def mutable(fresh: Seeded, monkeypatch: pytest.MonkeyPatch) -> GraphQL:
    """GraphQL over a database of this test alone (for mutations)."""
    use_database(monkeypatch, fresh)
    return GraphQL(make_state(fresh))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """The in-process dispatcher replaced by a recorder: submissions are recorded, nothing runs."""
    rec = Recorder()
    set_local_dispatcher(rec)
    yield rec
    set_local_dispatcher(None)


@pytest.fixture(scope="session")
def live_run(seeded: Seeded, tiny_gpt2_dir: Path) -> Seeded:
    """The seeded run given a real (random) SAE over the tiny GPT-2's residual stream before block 1."""
    import torch

    from shared.sae import SAEConfig, create_sae, save_sae

    torch.manual_seed(0)
    cfg = SAEConfig(
        architecture="relu", d_in=64, d_sae=N_FEATURES, hook_name=HOOK, model_name=str(tiny_gpt2_dir)
    )
    save_sae(create_sae(cfg), seeded.artifacts / "runs" / seeded.run_id)
    return seeded
