"""Time the analysis's 2-D dictionary map (``services.analyser.projection``) on random decoders, one CPU thread.

Usage: ``python -m bench.map_projection [--sizes 2048x576 8192x768] [--epochs 200]``. The neighbour search is timed
apart: the analysis computes it anyway (decoder neighbours) and hands it to the map.
"""

from __future__ import annotations

import argparse
import time

import torch

from services.analyser.geometry import decoder_neighbours
from services.analyser.projection import project_2d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["2048x576", "8192x768"], help="d_sae x d_in pairs")
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for size in args.sizes:
        n, d = (int(v) for v in size.split("x"))
        w = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
        start = time.perf_counter()
        idx, _ = decoder_neighbours(w, 10)
        mid = time.perf_counter()
        project_2d(w, epochs=args.epochs, neighbours=idx)
        end = time.perf_counter()
        print(
            f"d_sae {n:>6} d_in {d}: neighbours {mid - start:.2f} s, map ({args.epochs} epochs) {end - mid:.2f} s"
        )


if __name__ == "__main__":
    main()
