"""The gateway for the fuzz, as its own process: the real app and middleware, no worker (submissions are recorded
and dropped, so fuzzed pipelines never run). ``python fuzz_gateway.py PORT``; settings from SAELAB_* variables."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from services.gateway.app import create_app
from shared.jobs.contracts import set_local_dispatcher


class _Drop:
    def send(self, name: str, payload: Any, countdown: float = 0.0) -> None:
        pass


if __name__ == "__main__":
    set_local_dispatcher(_Drop())
    uvicorn.run(create_app(start_worker=False), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
