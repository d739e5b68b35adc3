"""The one Hugging Face hub probe (shared.hub): off at once when offline, False when nothing answers."""

from __future__ import annotations

import pytest

from shared.hub import hub_reachable


def test_hub_probe_is_off_at_once_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://192.0.2.1:9")  # would hang to the timeout if it were probed
    assert hub_reachable(timeout=30) is False


def test_hub_probe_says_unreachable_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")  # a closed port: refused at once
    assert hub_reachable(timeout=2) is False
