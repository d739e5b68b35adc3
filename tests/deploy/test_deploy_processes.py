"""The compose services' own commands and health checks, run for real (no Docker): with the environment compose
gives them, pointed at real PostgreSQL, Redis and S3 servers, migrate exits 0 and every long-running service turns
healthy by its own health check (which fails before the service is up)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from deploy_support import REPO, bare_env, compose_config
from support.fixtures import postgres_server, postgres_url, redis_server, s3_server  # noqa: F401
from support.servers import free_ports

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack(compose, tmp_path_factory, redis_server, postgres_url, s3_server) -> dict:  # noqa: F811
    """The compose model from a freshly generated .env, and the app environment rewired to the local servers."""
    tmp = tmp_path_factory.mktemp("stack")
    subprocess.run(
        ["bash", str(REPO / "deploy" / "init-env.sh"), str(tmp / ".env")], check=True, capture_output=True
    )
    model = compose_config(compose, tmp / ".env", profiles=("cpu",))
    local = {
        "SAELAB_DATABASE_URL": postgres_url,
        "SAELAB_BROKER_URL": redis_server.url,
        "SAELAB_S3_ENDPOINT": s3_server.endpoint,
        "SAELAB_S3_ACCESS_KEY": s3_server.access_key,
        "SAELAB_S3_SECRET_KEY": s3_server.secret_key,
        "SAELAB_ARTIFACTS_DIR": str(tmp / "artifacts"),
        "HF_HOME": str(tmp / "hf"),
    }
    path = f"{Path(sys.executable).parent}{os.pathsep}{bare_env()['PATH']}"  # python, celery, uvicorn of the venv
    base = {**bare_env(), "PATH": path, "PYTHONPATH": str(REPO), "HOSTNAME": socket.gethostname()}

    def env_of(service: str) -> dict[str, str]:
        env = dict(model["services"][service].get("environment") or {})
        return {**base, **env, **{k: v for k, v in local.items() if k in env}}

    return {"model": model, "env_of": env_of}


def healthcheck(service: dict, port_map: dict[str, str]) -> list[str]:
    """A compose health check as an argv (CMD / CMD-SHELL, ``$$`` unescaped, published ports remapped)."""
    kind, *rest = service["healthcheck"]["test"]
    rest = [arg.replace("$$", "$") for arg in rest]
    for old, new in port_map.items():
        rest = [arg.replace(old, new) for arg in rest]
    return ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest


def passes(argv: list[str], env: dict[str, str]) -> bool:
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, timeout=60).returncode == 0


def wait_healthy(
    argv: list[str], env: dict[str, str], proc: subprocess.Popen, log: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while not passes(argv, env):
        assert proc.poll() is None, (
            f"{argv} : the service exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
        )
        assert time.monotonic() < deadline, f"not healthy within {timeout}s:\n{log.read_text()[-3000:]}"
        time.sleep(1)


@pytest.fixture
def start(tmp_path) -> Iterator:
    """Start a process in its own session (stopped with its children at the end of the test)."""
    procs: list[subprocess.Popen] = []

    def _start(argv: list[str], env: dict[str, str], name: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        procs.append(proc)
        return proc, log

    yield _start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_migrate_then_worker_healthy_by_its_compose_healthcheck(stack, start):
    model, env_of = stack["model"], stack["env_of"]
    migrate = model["services"]["migrate"]
    result = subprocess.run(
        migrate["command"], env=env_of("migrate"), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr

    collector = model["services"]["collector"]
    env = env_of("collector")
    check = healthcheck(collector, {"--timeout 10": "--timeout 2"})
    assert not passes(check, env), "the worker health check passes with no worker running"
    proc, log = start(collector["command"], env, "collector")
    wait_healthy(check, env, proc, log)


def healthy_on_free_port(
    stack: dict, start, name: str, published: int, argv_on: Callable[[list[str], int], list[str]]
) -> dict[str, str]:
    """Start compose service ``name`` on a free port (``argv_on`` rewrites its command) and wait for its health
    check, remapped from the ``published`` port; returns the service's environment."""
    service = stack["model"]["services"][name]
    (port,) = free_ports(1)
    env = stack["env_of"](name)
    check = healthcheck(service, {f":{published}/": f":{port}/"})
    assert not passes(check, env), f"the {name} health check passes with no {name} running"
    proc, log = start(argv_on(service["command"], port), env, name)
    wait_healthy(check, env, proc, log)
    return env


def test_gateway_healthy_by_its_compose_healthcheck(stack, start):
    healthy_on_free_port(
        stack,
        start,
        "gateway",
        8000,
        lambda argv, port: [str(port) if arg == "8000" else arg for arg in argv],
    )


def test_flower_healthy_by_its_compose_healthcheck(stack, start):
    env = healthy_on_free_port(
        stack,
        start,
        "flower",
        5555,
        lambda argv, port: [a.replace("--port=5555", f"--port={port}") for a in argv],
    )
    assert env["FLOWER_BASIC_AUTH"].startswith("admin:")
