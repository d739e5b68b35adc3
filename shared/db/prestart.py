"""Prestart: wait until the database accepts connections, then upgrade its schema to the newest migration.

Run as ``python -m shared.db.prestart`` before the gateway or a worker starts (docker compose / k8s init step);
the embedded mode calls ``upgrade()`` itself. The Alembic migrations in ``migrations/`` are the only way the schema
changes; ``upgrade``/``downgrade`` here are thin wrappers around them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared.db.session import make_engine
from shared.settings import get_settings, redact_url

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = REPO_ROOT / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for ``url`` (default: SAELAB_DATABASE_URL) using the repository's migrations."""
    if not ALEMBIC_INI.is_file():
        raise FileNotFoundError(f"{ALEMBIC_INI}: alembic.ini not found (run from a saelab checkout or image)")
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.attributes["url"] = url or get_settings().database
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None when it has never been migrated)."""
    engine = make_engine(url or get_settings().database, pooled=False)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def wait_for_database(url: str | None = None, timeout: float = 60.0, interval: float = 1.0) -> None:
    """Block until ``SELECT 1`` succeeds; raise TimeoutError naming the (redacted) URL after ``timeout`` s."""
    url = url or get_settings().database
    engine = make_engine(url, pooled=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except OperationalError as err:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"database {redact_url(url)} not reachable after {timeout:.0f}s: {err.orig}"
                    ) from None
                log.info("waiting for database %s: %s", redact_url(url), err.orig)
                time.sleep(interval)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Wait for the database, then upgrade it to the newest schema."
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the database")
    parser.add_argument("--revision", default="head", help="target migration (default: head)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = get_settings().database
    try:
        wait_for_database(url, timeout=args.timeout)
        upgrade(url, args.revision)
    except (TimeoutError, FileNotFoundError) as err:
        print(f"prestart: {err}", file=sys.stderr)
        return 1
    print(f"prestart: {redact_url(url)} at revision {current_revision(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
