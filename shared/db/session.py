"""Engines and sessions: one engine per database URL, SQLite tuned for a worker thread beside the gateway.

``session_scope()`` is the unit of work every repository call runs in: commit on success, rollback on error.
SQLite gets WAL journaling, a busy timeout and enforced foreign keys; PostgreSQL gets pre-ping so a restarted
server costs one retry, not an error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from shared.settings import get_settings

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_makers: dict[str, sessionmaker[Session]] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def json_loads(text: str | bytes) -> Any:
    """JSON columns' decoder: orjson (several times faster on the long number arrays of feature examples), with
    the standard library for what orjson refuses (``NaN``/``Infinity``, which ``json.dumps`` writes by default)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, pooled: bool = True) -> Engine:
    """A new engine for ``url`` (``pooled=False``: one connection per use); creates a SQLite file's directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_deserializer=json_loads,
            **extra,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not pooled:
        return create_engine(url, poolclass=NullPool, json_deserializer=json_loads)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, json_deserializer=json_loads)


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for ``url`` (default: the settings' database URL)."""
    url = url or get_settings().database
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    """The shared session factory for ``url`` (objects stay readable after commit)."""
    url = url or get_settings().database
    engine = get_engine(url)
    with _lock:
        if url not in _makers:
            _makers[url] = sessionmaker(engine, expire_on_commit=False)
        return _makers[url]


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back (and re-raises) on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every pooled connection (tests, forked workers)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()
