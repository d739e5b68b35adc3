"""CLI test fixtures: an embedded-mode database and artifact directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fixtures import use_embedded, use_settings


@pytest.fixture
def embedded_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from shared.db.prestart import upgrade

    url = f"sqlite:///{tmp_path / 'saelab.db'}"
    use_embedded(monkeypatch, tmp_path)
    upgrade(url)
    yield tmp_path
    from shared.jobs.embedded import stop_worker

    stop_worker()  # never leave a worker bound to this test's database for the next test
    use_settings(monkeypatch)
