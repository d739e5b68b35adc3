"""Alembic environment: runs migrations against SAELAB_DATABASE_URL (or ``-x url=...``) on SQLite or PostgreSQL."""

from __future__ import annotations

from alembic import context

from shared.db.models import Base
from shared.db.session import make_engine
from shared.settings import get_settings

config = context.config
target_metadata = Base.metadata

# Objects the models do not describe (created by raw DDL in migrations): full-text search structures.
UNMODELLED = {"feature_fts", "ix_features_search"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Leave dialect-specific search structures out of autogenerate comparisons."""
    return not (name in UNMODELLED or (name or "").startswith("feature_fts_"))


def database_url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.attributes.get("url")
        or get_settings().database
    )


def run_offline() -> None:
    context.configure(
        url=database_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url(), pooled=False)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
