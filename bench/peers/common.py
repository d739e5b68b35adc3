"""Helpers shared by the product-side benches and the peer scripts: numpy/torch/stdlib only (any venv)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo (lscpu) gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where a number came from: CPU model, cores, torch threads, load average, torch version, GPU if used."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def explained_variance(x: torch.Tensor, recon: torch.Tensor) -> float:
    """1 - residual variance / total variance, over all tokens and dims (the trainer's and SAELens's EV)."""
    x64, r64 = x.double(), recon.double()
    rss = (x64 - r64).pow(2).sum()
    tss = (x64 - x64.mean(0)).pow(2).sum()
    return float(1.0 - rss / tss)


class TimedBatches(Iterator[torch.Tensor]):
    """Endless batches ``[batch, d]`` taken in order from ``data`` (wrapping around), timestamping each request.

    Both trainers pull from the same kind of iterator over the same array, so they see identical batches in
    identical order. The clock starts when batch ``warmup`` is requested (after a CUDA sync on a GPU), so the
    time from there to the trainer's return covers exactly the steps after the warm-up ones.
    """

    def __init__(self, data: torch.Tensor, batch: int, warmup: int, device: str = "cpu") -> None:
        if len(data) < batch:
            raise ValueError(f"TimedBatches: {len(data)} tokens are fewer than one batch of {batch}")
        self.data, self.batch, self.warmup, self.device = data, batch, warmup, device
        self.offset = 0
        self.requests = 0
        self.start: float | None = None

    def __next__(self) -> torch.Tensor:
        if self.requests == self.warmup:
            if self.device.startswith("cuda"):
                torch.cuda.synchronize()
            self.start = time.perf_counter()
        self.requests += 1
        end = self.offset + self.batch
        if end <= len(self.data):
            out = self.data[self.offset : end]
        else:
            end -= len(self.data)
            out = torch.cat([self.data[self.offset :], self.data[:end]])
        self.offset = end % len(self.data)
        return out.to(self.device)

    def tokens_per_s(self) -> float:
        """Tokens/s of the steps after the warm-up, up to now (call right after the trainer returns)."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        end = time.perf_counter()
        if self.start is None:
            raise ValueError(
                f"TimedBatches: only {self.requests} batches requested, warm-up is {self.warmup}"
            )
        return (self.requests - self.warmup) * self.batch / (end - self.start)


def load_matrix(path: Path) -> torch.Tensor:
    """A float32 [N, d] tensor from a .npy file written by the bench."""
    return torch.from_numpy(np.load(path).astype(np.float32, copy=False))
