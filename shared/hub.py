"""The Hugging Face hub: whether it answers, and the local stand-ins used when it does not."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

CONNECT_TIMEOUT_S = 5.0

LOCAL_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinystories"
"""The team's local TinyStories copy (text files), used by the offline demo and the dev seed."""


def hub_reachable(timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """One quick check that the Hugging Face hub answers (honours HF_HUB_OFFLINE, HF_ENDPOINT and proxies)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:
        return True  # the server answered, even if with an error status
    except (OSError, ValueError):
        return False
    return True
