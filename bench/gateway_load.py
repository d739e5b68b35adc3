"""Gateway load: 50 users mixing the explorer's operations for 60 s against a real uvicorn gateway.

Seeds a run like ``bench.gateway_latency`` (``dev_seed``; ``--model tiny`` by default here, or reuse ``--db``), starts
the gateway as a subprocess with the response cache at its default, warms it up (each operation once, then
``--warmup`` seconds of the same load, so the bounded caches are full), then runs N closed-loop keep-alive users for
``--duration`` seconds; each request picks one operation with the weights of a browsing session:
features page 40 %, feature detail 30 %, search 20 %, analysePrompt 10 % (the web client's own queries, with the
``__typename`` fields urql adds). Reports per operation the requests, errors, p50/p95/p99, and the server's resident
memory after the warm-up and after the run (growth must stay <= 10 %: the caches are bounded, so growth is a leak). Exit status 1 when any request failed or
memory grew more than that. One JSON line per operation plus a summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.gateway_latency import (
    Body,
    add_run_arguments,
    closed_loop,
    gateway,
    load_model,
    make_prompt,
    operations,
    percentile,
    pick_run,
    reused_seed,
    seed,
    warm_up,
)
from bench.records import emit

WEIGHTS = {"features_page": 40, "feature_detail": 30, "search": 20, "analysePrompt": 10}
MAX_GROWTH = 0.10


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def mixed_load(port: int, bodies: dict[str, Body], users: int, duration_s: float) -> dict[str, Any]:
    """``users`` closed-loop users, each request a weighted random operation; latencies and errors per operation."""
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, int] = dict.fromkeys(names, 0)
    first_error: dict[str, str] = {}

    def next_request(rng: random.Random) -> tuple[str, bytes]:
        name = rng.choices(names, weights)[0]
        return name, bodies[name](rng)[1]

    def record(name: str, latency_s: float | None, failure: str | None) -> None:
        if latency_s is not None:
            latencies[name].append(latency_s)
        if failure is not None:
            errors[name] += 1
            first_error.setdefault(name, failure)

    await closed_loop(port, users, duration_s, next_request, record)
    return {"latencies": latencies, "errors": errors, "first_error": first_error}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_run_arguments(parser, "load")
    parser.add_argument("--model", default="tiny", help="LM of the seeded run: 'tiny' (default) or 'smollm2'")
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument(
        "--warmup", type=float, default=20.0, help="seconds of the same load first (default 20)"
    )
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    rows: list[dict[str, Any]] = []

    def report(row: dict[str, Any]) -> None:
        rows.append(row)
        emit(row, args.out)

    workdir = Path(tempfile.mkdtemp(prefix="saelab-gateway-load-"))
    try:
        if args.db is not None:
            seeded = reused_seed(args.db, args.artifacts)
        else:
            seeded = seed(workdir, args.d_sae, None if args.model == "tiny" else args.model)
        with gateway(seeded, None, workdir, "load") as server:
            run_id, n_features = pick_run(server.port, args.run_id)
            prompt = make_prompt(load_model(seeded, run_id))
            bodies = operations(run_id, n_features, prompt)
            warm_up(server.port, bodies, set())
            # the same mix for a while first: caches fill to their bounds, so the run measures growth, not fill
            asyncio.run(mixed_load(server.port, bodies, args.users, args.warmup))
            rss_before = rss_mib(server.process.pid)
            wall0 = time.perf_counter()
            result = asyncio.run(mixed_load(server.port, bodies, args.users, args.duration))
            wall = time.perf_counter() - wall0
            rss_after = rss_mib(server.process.pid)
        total_errors = 0
        for name in WEIGHTS:
            lat = sorted(result["latencies"][name])
            total_errors += result["errors"][name]
            row: dict[str, Any] = {
                "benchmark": "gateway_load",
                "operation": name,
                "users": args.users,
                "requests": len(lat),
                "errors": result["errors"][name],
                "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
                "p95_ms": round(percentile(lat, 95) * 1000, 1) if lat else None,
                "p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
            }
            if name in result["first_error"]:
                row["first_error"] = result["first_error"][name][:300]
            report(row)
        growth = rss_after / rss_before - 1
        report({
            "benchmark": "gateway_load", "operation": "all", "users": args.users, "duration_s": round(wall, 1),
            "requests": sum(len(v) for v in result["latencies"].values()), "errors": total_errors,
            "rss_before_mib": round(rss_before, 1), "rss_after_mib": round(rss_after, 1),
            "rss_growth_pct": round(100 * growth, 1), "ok": total_errors == 0 and growth <= MAX_GROWTH,
        })  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not rows[-1]["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
