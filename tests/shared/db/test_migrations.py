"""Alembic migrations: up to head, down to base and up again on SQLite and PostgreSQL; models match them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from shared.db.models import Base
from shared.db.prestart import current_revision, downgrade, upgrade, wait_for_database
from shared.db.session import make_engine

pytestmark = pytest.mark.services

TABLES = {
    "datasets", "runs", "pipelines", "jobs", "metrics", "features", "feature_examples", "feature_neighbours",
    "feature_logits", "feature_labels", "token_features",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


def _tables(url: str) -> set[str]:
    engine = make_engine(url, pooled=False)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url, pooled=False)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    wait_for_database(db_url, timeout=10)
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == "0006"
    assert _tables(db_url) >= TABLES
    assert "task_id" in _columns(db_url, "jobs")
    downgrade(db_url, "0005")
    assert "task_id" not in _columns(db_url, "jobs")
    downgrade(db_url, "0002")
    assert current_revision(db_url) == "0002"
    downgrade(db_url, "0001")
    assert current_revision(db_url) == "0001"
    assert "features" not in _tables(db_url) and "jobs" in _tables(db_url)
    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) >= TABLES


def test_models_match_migrations(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url, pooled=False)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_object": _include_object, "compare_type": True}
            )
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name in ("feature_fts", "ix_features_search") or (name or "").startswith("feature_fts_"))


def test_full_text_search_structures_exist(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url, pooled=False)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
                assert {"feature_fts", "feature_fts_ai", "feature_fts_ad", "feature_fts_au"} <= names
            else:
                indexdef = conn.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_features_search'")
                ).scalar_one()
                assert "gin" in indexdef.lower() and "to_tsvector" in indexdef
    finally:
        engine.dispose()


def test_prestart_waits_and_fails_with_a_clear_message() -> None:
    with pytest.raises(TimeoutError, match=r"not reachable after 1s") as err:
        wait_for_database("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none", timeout=1, interval=0.2)
    assert "hunter2" not in str(err.value)


def test_prestart_command_migrates_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pre.db'}"
    env = os.environ | {"SAELAB_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "shared.db.prestart", "--timeout", "5"], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "at revision 0006" in done.stdout
    assert current_revision(url) == "0006"
