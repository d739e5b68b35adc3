"""CLI commands that go through the services layer: submit a pipeline, list jobs, serve the gateway (`saelab up`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from cli.errors import CliError
from cli.sections import read_sections
from shared.config import ConfigError

PIPELINE_KEYS = ("name", "collect", "train", "evaluate", "analyse")


def load_pipeline_file(path: Path) -> dict[str, Any]:
    """Read a pipeline YAML (sections collect/train/evaluate/analyse + name); unknown sections are errors."""
    data = read_sections(path, PIPELINE_KEYS)
    if "collect" not in data:
        raise ConfigError(f"{path}: collect: required section")
    return data


def raise_on_failure(pipeline_id: str, jobs: list[Any]) -> None:
    """A CliError naming the first failed stage of a pipeline that was followed to its end, if one failed."""
    failed = [j for j in jobs if j.status == "failed"]
    if failed:
        raise CliError(f"pipeline {pipeline_id}: {failed[0].kind} failed: {failed[0].error}")


def follow_pipeline(pipeline_id: str, poll: float = 1.0) -> list[Any]:
    """Print each job's status changes and progress until the pipeline finishes; return its jobs."""
    from shared.jobs.pipelines import pipeline_done

    seen: dict[str, tuple[str, int]] = {}
    while True:
        done, jobs = pipeline_done(pipeline_id)
        for job in jobs:
            state = (job.status, int(job.progress * 20))
            if seen.get(job.id) != state:
                seen[job.id] = state
                bar = "#" * state[1] + "." * (20 - state[1])
                print(
                    f"  {job.kind:<9} {job.status:<10} [{bar}] {job.progress:6.1%}  {job.message}", flush=True
                )
        if done:
            return jobs
        time.sleep(poll)


def cmd_submit(args: argparse.Namespace) -> None:
    from shared.jobs import embedded
    from shared.settings import get_settings

    data = load_pipeline_file(args.config)
    try:
        sub = embedded.submit_pipeline(
            data["collect"],
            data.get("train"),
            data.get("analyse"),
            data.get("evaluate", True),
            name=data.get("name", ""),
            force=args.force,
        )
        print(
            f"pipeline {sub.pipeline_id}: {' -> '.join(sub.stages)} (dataset {sub.dataset_id}, run {sub.run_id})"
        )
        if get_settings().broker is not None and not args.wait:
            print("queued on the broker; follow it with `saelab jobs` or in Flower")
            return
        # Embedded mode runs the stages on this process's worker thread, so it follows the pipeline to the end.
        jobs = follow_pipeline(sub.pipeline_id)
    finally:
        embedded.stop_worker()
    raise_on_failure(sub.pipeline_id, jobs)


def cmd_jobs(args: argparse.Namespace) -> None:
    from shared.db.repositories.jobs import list_jobs
    from shared.db.session import session_scope

    with session_scope() as s:
        jobs = list_jobs(s, status=args.status, kind=args.kind, limit=args.limit)
        rows = [(j.id, j.kind, j.status, j.progress, j.created_at, j.error or j.message) for j in jobs]
    if not rows:
        print("no jobs")
    for job_id, kind, status, progress, created, note in rows:
        print(f"{job_id}  {kind:<9} {status:<10} {progress:6.1%}  {created:%Y-%m-%d %H:%M}  {note}")


NO_RUNS = (
    "no runs in the database yet: run `make demo` (or `saelab demo`) for a first one, or register a run directory "
    "the CLI made with `saelab register artifacts/runs/<name>`"
)


def no_runs_hint() -> str | None:
    """What to run when the database `saelab up` serves has no run yet (None when it has one)."""
    from shared.db.repositories.runs import list_runs
    from shared.db.session import session_scope

    with session_scope() as s:
        return NO_RUNS if not list_runs(s, limit=1) else None


def cmd_up(args: argparse.Namespace) -> None:
    import uvicorn

    from shared.db.prestart import upgrade

    upgrade()
    print(f"saelab gateway on http://{args.host}:{args.port}  (GraphQL at /graphql)", flush=True)
    if (hint := no_runs_hint()) is not None:
        print(hint, flush=True)
    uvicorn.run("services.gateway.app:app", host=args.host, port=args.port, log_level="warning")


def cmd_export_static(args: argparse.Namespace) -> None:
    from cli.export_static import export_static
    from shared.progress import TqdmProgress

    bar = TqdmProgress("export", "feature")
    try:
        out = export_static(args.run, args.out, args.dist, progress=bar)
    finally:
        bar.close()
    print(f"static dashboard for run {args.run} in {out} (serve it from any static host)")


def add_service_commands(sub: Any) -> None:
    """Register submit / jobs / up on the CLI's subparsers."""
    p = sub.add_parser("submit", help="submit a collect -> train -> evaluate -> analyse pipeline")
    p.add_argument("--config", type=Path, required=True, help="pipeline YAML (configs/pipeline_*.yaml)")
    p.add_argument(
        "--wait", action="store_true", help="follow the pipeline to the end (always in embedded mode)"
    )
    p.add_argument("--force", action="store_true", help="fresh ids: redo stages whose artifacts exist")
    p.set_defaults(fn=cmd_submit)

    p = sub.add_parser("jobs", help="list jobs from the database")
    p.add_argument("--status", choices=["queued", "running", "succeeded", "failed", "cancelled"])
    p.add_argument("--kind", choices=["import", "collect", "train", "evaluate", "analyse"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(fn=cmd_jobs)

    p = sub.add_parser(
        "up", help="serve the gateway + web client (embedded: SQLite, local artifacts, in-process worker)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(fn=cmd_up)

    p = sub.add_parser(
        "export-static", help="write the web client + one run's data as a static site (no API needed)"
    )
    p.add_argument("--run", required=True, help="run id (see `saelab jobs` or the runs query)")
    p.add_argument("--out", type=Path, required=True, help="output directory (replaced)")
    p.add_argument(
        "--dist",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "web" / "dist",
        help="the built web client (default web/dist)",
    )
    p.set_defaults(fn=cmd_export_static)
