"""Session fixtures for real servers and a helper that points the process's settings at them.

Import into a conftest with ``from support.fixtures import *``. Servers are started on first use and stopped
at the end of the session; they never skip (a server that cannot start fails the test with the reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.servers import PostgresServer, RedisServer, SeaweedS3

__all__ = ["postgres_server", "postgres_url", "redis_server", "s3_server", "use_settings"]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS S3 server (``weed mini``) on free ports, with its own access/secret keys."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private Redis (``redis_server.url``)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The local PostgreSQL, started when down (and then stopped at the end)."""
    server = PostgresServer().ensure()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this session (dropped afterwards)."""
    url = postgres_server.create_database()
    yield url
    from shared.db.session import dispose_engines

    dispose_engines()
    postgres_server.drop_database(url)


def use_settings(monkeypatch: pytest.MonkeyPatch, **env: object) -> None:
    """Set ``SAELAB_<KEY>`` variables (None removes one) and make the process re-read its settings."""
    from shared.db.session import dispose_engines
    from shared.jobs.contracts import reset_dispatchers
    from shared.jobs.events import reset_buses
    from shared.settings import get_settings

    for key, value in env.items():
        name = f"SAELAB_{key.upper()}"
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value) if not isinstance(value, Path) else str(value))
    get_settings.cache_clear()
    dispose_engines()
    reset_buses()
    reset_dispatchers()


def use_embedded(monkeypatch: pytest.MonkeyPatch, root: Path, **env: object) -> Path:
    """Embedded mode under ``root``: a SQLite database, a local artifact directory (returned), no broker and no S3;
    ``env`` sets more ``SAELAB_*`` settings (as ``use_settings``)."""
    artifacts = root / "artifacts"
    use_settings(
        monkeypatch,
        database_url=f"sqlite:///{root / 'saelab.db'}",
        artifacts_dir=artifacts,
        broker_url="",
        s3_endpoint="",
        **env,
    )
    return artifacts
