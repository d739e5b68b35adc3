"""Backbone test fixtures: real servers from tests/support, isolated settings per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fixtures import *  # noqa: F403 - session server fixtures


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Every test starts and ends with settings re-read from the environment and no cached engines/buses."""
    from shared.jobs import contracts as tasks
    from shared.jobs import events
    from shared.db.session import dispose_engines
    from shared.settings import get_settings

    def reset() -> None:
        get_settings.cache_clear()
        dispose_engines()
        events._buses.clear()
        tasks._celery.clear()
        tasks.set_local_dispatcher(None)

    reset()
    yield
    reset()
