"""Build the web client (``web/dist``) when it is missing, so ``saelab up`` serves a dashboard: npm ci + build."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from cli.errors import CliError

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
NODE_MIN = (20, 19)
"""web/package.json's ``engines.node`` (Vite 7 needs it)."""
INSTALL_NODE = "install Node.js >= 20.19 (https://nodejs.org or your package manager), then run `make web`"


def node_version(node: str) -> tuple[int, int]:
    """``node --version`` as (major, minor)."""
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    match = re.match(r"v?(\d+)\.(\d+)", out)
    if match is None:
        raise CliError(f"web client: `{node} --version` printed {out!r}, not a version")
    return int(match[1]), int(match[2])


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise CliError(f"web client: `{' '.join(cmd)}` in {cwd} failed (exit {done.returncode}):\n{tail}")


def ensure_web_client(web_dir: Path = WEB_DIR, say: Callable[[str], None] = print) -> bool:
    """Build ``web_dir/dist`` when it has no index.html (``npm ci`` first when node_modules is missing).

    Returns True when it built, False when the client was already there. Raises CliError naming the fix when
    Node.js or npm is missing or too old, or when a step fails (with the tail of its output).
    """
    if (web_dir / "dist" / "index.html").is_file():
        return False
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = "node" if node is None else "npm"
        raise CliError(
            f"the web client in {web_dir} is not built and `{missing}` is not installed: {INSTALL_NODE}"
        )
    version = node_version(node)
    if version < NODE_MIN:
        raise CliError(
            f"the web client needs Node.js >= {NODE_MIN[0]}.{NODE_MIN[1]}, this machine has "
            f"{version[0]}.{version[1]}: {INSTALL_NODE}"
        )
    if not (web_dir / "node_modules").is_dir():
        say("web client: installing its packages (npm ci, once)")
        _run([npm, "ci", "--no-audit", "--no-fund"], web_dir)
        (web_dir / "node_modules" / ".installed-stamp").touch()  # what `make web-setup` leaves
    say("web client: building web/dist (npm run build, once)")
    _run([npm, "run", "build"], web_dir)
    if not (web_dir / "dist" / "index.html").is_file():
        raise CliError(
            f"web client: `npm run build` finished but {web_dir / 'dist' / 'index.html'} is missing"
        )
    return True
