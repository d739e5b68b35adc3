"""Fixtures for SAE model tests."""

from __future__ import annotations

from support.threads import one_torch_thread  # noqa: F401 - autouse here
