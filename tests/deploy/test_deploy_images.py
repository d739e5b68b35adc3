"""The Dockerfiles, checked without a Docker engine: hadolint, pinned bases and torch, non-root, healthchecks,
cache-friendly layer order, every COPY source present in the build context, pinned Python dependencies."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib
from deploy_support import REPO, run
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

DOCKERFILES = ("Dockerfile.gateway", "Dockerfile.worker", "Dockerfile.trainer")
TORCH = "2.13.0"


@dataclass
class Instruction:
    """One Dockerfile instruction (continuations joined, comments dropped)."""

    op: str
    args: str
    stage: int


def parse(path: Path) -> list[Instruction]:
    """Instructions of a Dockerfile, each tagged with the index of its build stage (-1 before the first FROM)."""
    out: list[Instruction] = []
    stage, buffer = -1, ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        buffer += " " + line.rstrip("\\").strip() if buffer else line.rstrip("\\").strip()
        if line.endswith("\\"):
            continue
        op, _, args = buffer.partition(" ")
        if op.upper() == "FROM":
            stage += 1
        out.append(Instruction(op.upper(), args.strip(), stage))
        buffer = ""
    return out


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def resolve_args(text: str, instructions: list[Instruction]) -> str:
    """``${NAME}`` replaced by the ARG defaults declared in the file."""
    defaults = {}
    for i in instructions:
        if i.op == "ARG" and "=" in i.args:
            name, value = i.args.split("=", 1)
            defaults[name] = value
    return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), text)


def exec_form(args: str) -> list[str]:
    """A JSON-array instruction argument (CMD [...]) as a list."""
    import json

    return json.loads(args[args.index("[") :])


# ------------------------------------------------------------------------------------------------------------------
# .dockerignore (Docker's rules: patterns anchored at the context root, ** across directories, last match wins)
# ------------------------------------------------------------------------------------------------------------------


def _pattern(glob: str) -> re.Pattern[str]:
    regex = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif glob[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif glob[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(glob[i]), i + 1
    return re.compile(regex + r"\Z")


def dockerignored(path: str, rules: list[str]) -> bool:
    """Whether ``path`` (relative to the context) is left out of the build context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for rule in rules:
        negate = rule.startswith("!")
        pattern = _pattern(rule.lstrip("!").strip("/"))
        if any(pattern.match(p) for p in prefixes):
            ignored = not negate
    return ignored


@pytest.fixture(scope="module")
def ignore_rules() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# ------------------------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_is_clean(hadolint, dockerfile):
    result = run([hadolint, "--no-color", dockerfile])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_base_images_and_torch_are_pinned(dockerfile):
    instructions = parse(REPO / dockerfile)
    for i in instructions:
        if i.op == "FROM":
            image = resolve_args(i.args.split()[0], instructions)
            tag = image.rsplit(":", 1)[-1]
            assert ":" in image and re.search(r"\d+\.\d+", tag), f"{dockerfile}: unpinned base {image}"
    text = resolve_args(" ".join(i.args for i in instructions if i.op == "RUN"), instructions)
    assert f"torch=={TORCH}" in text, f"{dockerfile} must install torch=={TORCH}"
    assert f"torch=={TORCH}" in (REPO / "requirements.txt").read_text()  # the same pin as the venv


@pytest.mark.parametrize("dockerfile", ["Dockerfile.gateway", "Dockerfile.worker"])
def test_cpu_images_take_torch_from_the_cpu_index(dockerfile):
    instructions = parse(REPO / dockerfile)
    text = resolve_args(" ".join(i.args for i in instructions if i.op == "RUN"), instructions)
    assert "--index-url https://download.pytorch.org/whl/cpu" in text.replace('"', "")


def test_trainer_image_is_cuda_with_a_cuda_torch_build():
    instructions = parse(REPO / "Dockerfile.trainer")
    base = resolve_args(final_stage(instructions)[0].args, instructions)
    assert base.startswith("nvidia/cuda:")
    cuda = re.search(r"nvidia/cuda:(\d+)\.(\d+)", base)
    text = resolve_args(" ".join(i.args for i in instructions if i.op == "RUN"), instructions).replace(
        '"', ""
    )
    index = re.search(r"download\.pytorch\.org/whl/cu(\d+)", text)
    assert index, "the trainer must install a CUDA torch build from the PyTorch index"
    assert index.group(1) == cuda.group(1) + cuda.group(2), (
        "torch's CUDA build must match the base image's CUDA"
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_final_stage_runs_as_non_root_with_a_healthcheck(dockerfile):
    stage = final_stage(parse(REPO / dockerfile))
    users = [i.args for i in stage if i.op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), f"{dockerfile} runs as root"
    assert any(i.op == "HEALTHCHECK" and "CMD" in i.args for i in stage), f"{dockerfile} has no HEALTHCHECK"


@pytest.mark.parametrize(
    ("dockerfile", "process"),
    [
        ("Dockerfile.gateway", "gateway"),
        ("Dockerfile.worker", "collector"),
        ("Dockerfile.trainer", "trainer"),
    ],
)
def test_default_command_is_the_contract_command(dockerfile, process, contract):
    (cmd,) = [i for i in final_stage(parse(REPO / dockerfile)) if i.op == "CMD"]
    assert exec_form(cmd.args) == contract.commands[process]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dependencies_are_installed_before_the_source_is_copied(dockerfile):
    stage = final_stage(parse(REPO / dockerfile))
    ops = [(i.op, i.args) for i in stage]
    source = ops.index(("COPY", ". ."))
    deps = [n for n, (op, args) in enumerate(ops) if op == "RUN" and "constraints.txt" in args]
    torch = [n for n, (op, args) in enumerate(ops) if op == "RUN" and "torch==" in args]
    assert deps and torch and max(deps + torch) < source, (
        f"{dockerfile}: deps must be layered before the source"
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_every_copied_path_is_in_the_build_context(dockerfile, ignore_rules):
    for i in parse(REPO / dockerfile):
        if i.op != "COPY" or "--from=" in i.args:
            continue
        sources = [a for a in shlex.split(i.args) if not a.startswith("--")][:-1]
        for src in sources:
            if src == ".":
                continue
            assert (REPO / src).exists(), f"{dockerfile}: COPY {src} does not exist"
            assert not dockerignored(src, ignore_rules), (
                f"{dockerfile}: COPY {src} is excluded by .dockerignore"
            )


def test_gateway_builds_the_web_client_and_serves_it_from_where_settings_look():
    instructions = parse(REPO / "Dockerfile.gateway")
    web = [i for i in instructions if i.stage == 0]
    assert web[0].args.startswith("${NODE_IMAGE}") and "AS web" in web[0].args
    runs = [i.args for i in web if i.op == "RUN"]
    assert any(r.startswith("npm ci") for r in runs) and "npm run build" in runs
    copy = [i.args for i in final_stage(instructions) if i.op == "COPY" and "--from=web" in i.args]
    destination = copy[0].split()[-1]
    env = " ".join(i.args for i in final_stage(instructions) if i.op == "ENV")
    assert f"SAELAB_GATEWAY_WEB_DIST={destination}" in env
    assert destination == "/app/web/dist"  # also GatewaySettings' default: <repo>/web/dist under WORKDIR /app


def test_dockerignore_keeps_environments_data_and_secrets_out(ignore_rules):
    for path in [
        ".git",
        ".venv",
        "web/node_modules",
        "node_modules",
        "artifacts",
        "artifacts/run/sae.safetensors",
        "runs",
        ".env",
        "web/dist",
        "shared/__pycache__/x.pyc",
    ]:
        assert dockerignored(path, ignore_rules), path
    for path in [
        "shared/settings.py",
        "services/gateway/app.py",
        "migrations/env.py",
        "alembic.ini",
        "pyproject.toml",
        "README.md",
        "web/package.json",
        "web/src/main.tsx",
        "deploy/constraints.txt",
        ".env.example",
        "configs/train_small.yaml",
    ]:
        assert not dockerignored(path, ignore_rules), path


def test_constraints_pin_every_dependency_within_its_specifier():
    deps = [
        Requirement(d)
        for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    ]
    pins = {}
    for line in (REPO / "deploy" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    assert "setuptools" in pins, "the images' editable install needs a pinned setuptools"
    for req in deps:
        name = canonicalize_name(req.name)
        if name == "torch":
            assert name not in pins, "torch is pinned by each Dockerfile, not by constraints.txt"
            continue
        assert name in pins, f"{req.name} has no pin: run `python deploy/freeze_constraints.py`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} violates {req}"
        )
