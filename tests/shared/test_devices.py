"""The one device rule (shared.devices): auto = CUDA when present, CUDA asked for without it = a named error."""

from __future__ import annotations

import pytest
import torch

from shared.config import ConfigError
from shared.devices import resolve_device


def test_auto_is_cuda_when_present_else_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised where CUDA is missing")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_an_error_naming_the_key(device: str) -> None:
    with pytest.raises(ConfigError, match=r"^device: .*CUDA is not available"):
        resolve_device(device)
