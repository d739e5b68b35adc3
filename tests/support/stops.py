"""``StopAfter``: a ``should_stop`` callback for the trainer and the sweep that asks to stop after ``n`` steps."""

from __future__ import annotations


class StopAfter:
    """should_stop that says stop once ``n`` steps have been asked about."""

    def __init__(self, n: int) -> None:
        self.calls, self.n = 0, n

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls > self.n
