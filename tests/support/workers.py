"""Real Celery worker processes for service tests: start one per queue, wait until ready, stop or SIGKILL them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from shared.db.session import dispose_engines
from shared.settings import get_settings
from support.servers import ServerUnavailable, free_ports, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"worker (\S+) ready: ")
"""saelab's own ready line (``shared.jobs.celery_app``), logged at INFO whatever the worker's level."""
QUEUE_OF = {"collector": "collector", "trainer": "trainer", "analyser": "analyser"}


class CeleryWorker:
    """``celery -A services.<service>.celery_app worker -Q <queue>`` in its own process group.

    ``defaults=True`` starts it as a new user would: no ``-n`` (the node name is the worker's own default) and
    no ``--loglevel`` (Celery's WARNING); ``node`` is then read from its ready line. ``pool=None``: Celery's default
    (prefork, one child), as the documented commands run it; else ``--pool=<pool>`` (solo: one process)."""

    def __init__(
        self,
        service: str,
        name: str,
        env: dict[str, str],
        workdir: Path,
        defaults: bool = False,
        pool: str | None = "solo",
    ) -> None:
        self.service, self.name, self.env = service, name, env
        self.workdir = Path(workdir)
        self.log = self.workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.defaults = defaults
        self.pool = pool

    def start(self) -> CeleryWorker:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "celery", "-A", f"services.{self.service}.celery_app", "worker",
            "-Q", QUEUE_OF[self.service], "--concurrency=1", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if self.pool:
            cmd.append(f"--pool={self.pool}")
        if not self.defaults:
            cmd += ["-n", f"{self.name}@%h", "--loglevel=INFO"]
        with open(self.log, "ab") as log_file:
            self.proc = subprocess.Popen(
                cmd,
                env=self.env,
                cwd=self.workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 120.0) -> CeleryWorker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise ServerUnavailable(f"celery worker {self.name} exited:\n{self.tail()}")
            if READY.search(self.log.read_text(errors="replace")):
                return self
            time.sleep(0.2)
        raise ServerUnavailable(f"celery worker {self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    @property
    def node(self) -> str:
        """The node name the worker reported ready under."""
        match = READY.search(self.log.read_text(errors="replace"))
        assert match, f"worker {self.name} is not ready:\n{self.tail()}"
        return match.group(1)

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL the whole worker (no warm shutdown, no acks): what a crashed node looks like."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)


def stop_all(workers: list[CeleryWorker], timeout: float = 20.0) -> None:
    """Warm-shutdown several workers in parallel (SIGTERM all, then wait; SIGKILL stragglers)."""
    running = [w for w in workers if w.proc is not None and w.proc.poll() is None]
    for worker in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.proc.pid, signal.SIGTERM)  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    for worker in running:
        try:
            worker.proc.wait(max(deadline - time.monotonic(), 0.1))  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            worker.kill()


def worker_env(settings: dict[str, str], artifacts_dir: Path) -> dict[str, str]:
    """A worker's environment: the test's SAELAB_* settings, its own artifact cache, one torch thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAELAB_")}
    env |= {f"SAELAB_{k.upper()}": v for k, v in settings.items()}
    env |= {
        "SAELAB_ARTIFACTS_DIR": str(artifacts_dir),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    return env


@contextlib.contextmanager
def serving(
    settings: dict[str, str],
    client_dir: Path,
    workers: dict[str, CeleryWorker],
    start: Callable[[], object],
    unset: Iterable[str] = (),
) -> Iterator[None]:
    """This process pointed at ``settings`` (``SAELAB_*``; ``unset`` names removed; ``client_dir`` its artifact
    cache) while the workers that ``start`` adds to ``workers`` run, each one ready; on exit they are stopped and
    the cached settings and database engines dropped."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.items():
            mp.setenv(f"SAELAB_{key.upper()}", value)
        for name in unset:
            mp.delenv(f"SAELAB_{name}", raising=False)
        mp.setenv("SAELAB_ARTIFACTS_DIR", str(client_dir))
        get_settings.cache_clear()
        try:
            start()
            for worker in list(workers.values()):
                worker.wait_ready()
            yield
        finally:
            stop_all(list(workers.values()))
            get_settings.cache_clear()
            dispose_engines()


class Flower:
    """``celery --broker=<url> flower`` on a free local port, its HTTP API open (``FLOWER_UNAUTHENTICATED_API``)."""

    def __init__(self, broker: str, workdir: Path, env: dict[str, str]) -> None:
        self.broker, self.env = broker, env
        self.workdir = Path(workdir)
        self.log = self.workdir / "flower.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Flower:
        import httpx

        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.port,) = free_ports(1)
        cmd = [sys.executable, "-m", "celery", f"--broker={self.broker}", "flower", "--address=127.0.0.1",
               f"--port={self.port}"]  # fmt: skip
        with open(self.log, "ab") as log_file:
            self.proc = subprocess.Popen(cmd, env=self.env | {"FLOWER_UNAUTHENTICATED_API": "true"},
                                         cwd=self.workdir, stdout=log_file, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerUnavailable(f"flower exited:\n{self.log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/workers", timeout=5).status_code == 200:
                    return self
            time.sleep(0.3)
        raise ServerUnavailable(
            f"flower not up after {timeout:.0f}s:\n{self.log.read_text(errors='replace')}"
        )

    def task(self, task_id: str) -> dict | None:
        """Flower's record of a task (``state``, ``worker``, ``exception``, ...), or None when it has none."""
        import httpx

        answer = httpx.get(f"{self.url}/api/task/info/{task_id}", timeout=10)
        return answer.json() if answer.status_code == 200 else None

    def stop(self) -> None:
        stop_process(self.proc, timeout=10)
