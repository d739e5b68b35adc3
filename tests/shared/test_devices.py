"""The one device rule (shared.devices) and the one hub probe (shared.hub)."""

from __future__ import annotations

import pytest
import torch

from shared.config import ConfigError
from shared.devices import resolve_device
from shared.hub import hub_reachable


def test_auto_is_cuda_when_present_else_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised where CUDA is missing")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_an_error_naming_the_key(device: str) -> None:
    with pytest.raises(ConfigError, match=r"^device: .*CUDA is not available"):
        resolve_device(device)


def test_hub_probe_is_off_at_once_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://192.0.2.1:9")  # would hang to the timeout if it were probed
    assert hub_reachable(timeout=30) is False


def test_hub_probe_says_unreachable_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")  # a closed port: refused at once
    assert hub_reachable(timeout=2) is False
