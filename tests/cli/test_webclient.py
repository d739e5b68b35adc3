"""The demo builds the web client when web/dist is missing (npm ci first when needed) and names the fix when Node
is missing or too old; stand-in `node` / `npm` executables record what they were asked to run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cli.errors import CliError
from cli.webclient import ensure_web_client

NPM = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$1" = ci ]; then /bin/mkdir -p node_modules; fi
if [ "$1 $2" = "run build" ]; then
  if [ -n "{fail}" ]; then echo "src/App.tsx(3,1): error TS2304: Cannot find name 'x'"; exit 2; fi
  /bin/mkdir -p dist && echo '<html></html>' > dist/index.html
fi
"""


def _tools(tmp_path: Path, node: str | None = "v22.3.0", fail: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {"npm": NPM.format(log=tmp_path / "npm.log", fail="yes" if fail else "")}
    if node is not None:
        scripts["node"] = f"#!/bin/sh\necho {node}\n"
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return bin_dir


@pytest.fixture
def web(tmp_path: Path) -> Path:
    (tmp_path / "web").mkdir()
    return tmp_path / "web"


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "npm.log"
    return log.read_text().splitlines() if log.is_file() else []


def test_missing_dist_and_packages_run_npm_ci_then_build(tmp_path, web, monkeypatch):
    monkeypatch.setenv("PATH", str(_tools(tmp_path)))
    said: list[str] = []
    assert ensure_web_client(web, said.append) is True
    assert _calls(tmp_path) == ["ci --no-audit --no-fund", "run build"]
    assert (web / "dist" / "index.html").is_file() and (web / "node_modules" / ".installed-stamp").is_file()
    assert any("npm ci" in line for line in said) and any("npm run build" in line for line in said)
    # built: a second call does nothing
    assert ensure_web_client(web, said.append) is False
    assert _calls(tmp_path) == ["ci --no-audit --no-fund", "run build"]


def test_installed_packages_are_not_reinstalled(tmp_path, web, monkeypatch):
    (web / "node_modules").mkdir()
    monkeypatch.setenv("PATH", str(_tools(tmp_path)))
    assert ensure_web_client(web, lambda _: None) is True
    assert _calls(tmp_path) == ["run build"]


def test_without_node_the_error_names_the_install_and_the_make_target(tmp_path, web, monkeypatch):
    monkeypatch.setenv("PATH", str(_tools(tmp_path, node=None)))
    with pytest.raises(CliError, match=r"`node` is not installed: install Node.js >= 20.19 .*`make web`"):
        ensure_web_client(web, lambda _: None)
    assert _calls(tmp_path) == []


def test_an_old_node_is_refused_with_the_version_it_found(tmp_path, web, monkeypatch):
    monkeypatch.setenv("PATH", str(_tools(tmp_path, node="v18.19.1")))
    with pytest.raises(CliError, match=r"needs Node.js >= 20.19, this machine has 18.19"):
        ensure_web_client(web, lambda _: None)


def test_a_failing_build_shows_the_tail_of_its_output(tmp_path, web, monkeypatch):
    (web / "node_modules").mkdir()
    monkeypatch.setenv("PATH", str(_tools(tmp_path, fail=True)))
    with pytest.raises(
        CliError, match=r"`\S*npm run build` in .* failed \(exit 2\):\nsrc/App.tsx\(3,1\): error TS2304"
    ):
        ensure_web_client(web, lambda _: None)
