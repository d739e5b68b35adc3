"""Backbone test fixtures: real servers from tests/support, isolated settings per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fixtures import *  # noqa: F403 - session server fixtures


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Every test starts and ends with settings re-read from the environment and no cached engines/buses."""
    from shared.db.session import dispose_engines
    from shared.jobs.contracts import reset_dispatchers, set_local_dispatcher
    from shared.jobs.events import reset_buses
    from shared.settings import get_settings

    def reset() -> None:
        get_settings.cache_clear()
        dispose_engines()
        reset_buses()
        reset_dispatchers()
        set_local_dispatcher(None)

    reset()
    yield
    reset()
