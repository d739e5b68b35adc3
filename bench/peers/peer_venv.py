"""Peer virtualenvs for the interop tests: created from a fully pinned lock, cached by its hash, shared across clones.

A peer (SAELens) never enters the product venv: it gets its own virtualenv under
``$SAELAB_PEER_CACHE`` (default ``~/.cache/saelab/peers``), in a folder named ``<peer>-<hash>`` where the hash covers
the lock file, the torch pin and the Python version. A fresh clone on the same machine reuses it; a changed lock
builds a new one. Creation takes a file lock (two test processes never build the same venv at once) and writes
``.ready`` (with the creation time in seconds) only after the peer imports, so a half-built venv is rebuilt.

    python -m bench.peers.peer_venv saelens     # create if missing, print the python path and the creation time

Standard library only: it runs under any Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
READY = ".ready"


@dataclass(frozen=True)
class Peer:
    lock: str
    """Fully pinned requirements file beside this module (pip freeze of a working venv, torch excluded)."""
    torch: str
    """torch requirement installed first (pinned: an unpinned torch pulls a multi-GB CUDA build)."""
    check: str
    """Python statement that must succeed in the finished venv."""


PEERS = {
    "saelens": Peer(lock="saelens-lock.txt", torch="torch==2.13.0", check="import sae_lens"),
}


class PeerVenvError(RuntimeError):
    """A peer virtualenv could not be created; the message says which step failed and ends with its log."""


def cache_root() -> Path:
    if os.environ.get("SAELAB_PEER_CACHE"):
        return Path(os.environ["SAELAB_PEER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "saelab" / "peers"


def venv_dir(name: str) -> Path:
    """Where peer ``name``'s venv lives: ``<cache>/<name>-<hash of lock + torch pin + python version>``."""
    peer = _peer(name)
    digest = hashlib.sha256()
    digest.update((HERE / peer.lock).read_bytes())
    digest.update(peer.torch.encode())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return cache_root() / f"{name}-{digest.hexdigest()[:12]}"


def python(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


def ready_info(name: str) -> dict | None:
    """The ``.ready`` record (creation seconds, when) of a finished venv, or None."""
    marker = venv_dir(name) / READY
    return json.loads(marker.read_text()) if marker.is_file() else None


def ensure_venv(name: str, echo=lambda message: print(message, file=sys.stderr, flush=True)) -> Path:
    """The peer's python, creating its venv first when missing or half-built (under a file lock)."""
    peer = _peer(name)
    target = venv_dir(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / READY).is_file():
            return target / "bin" / "python"
        echo(f"peer venv: creating {target} from bench/peers/{peer.lock} (a few minutes, once per machine)")
        start = time.monotonic()
        shutil.rmtree(target, ignore_errors=True)
        log_path = target.parent / f"{target.name}.log"
        with open(log_path, "w") as log:
            py = str(target / "bin" / "python")
            steps = [
                ("create the venv", [sys.executable, "-m", "venv", str(target)]),
                ("install torch", [py, "-m", "pip", "install", "--no-input", "-q", peer.torch]),
                (
                    "install the lock",
                    [py, "-m", "pip", "install", "--no-input", "-q", "-r", str(HERE / peer.lock)],
                ),
                ("import check", [py, "-c", peer.check]),
            ]
            for what, cmd in steps:
                log.write(f"$ {' '.join(cmd)}\n")
                log.flush()
                proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
                if proc.returncode != 0:
                    log.close()
                    tail = "\n".join(log_path.read_text().splitlines()[-25:])
                    raise PeerVenvError(
                        f"peer venv {name}: {what} failed (exit {proc.returncode}); log {log_path}:\n{tail}"
                    )
        seconds = round(time.monotonic() - start, 1)
        info = {"seconds": seconds, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "lock": peer.lock}
        (target / READY).write_text(json.dumps(info))
        echo(f"peer venv: {name} ready in {seconds} s")
        return target / "bin" / "python"


def _peer(name: str) -> Peer:
    try:
        return PEERS[name]
    except KeyError:
        raise PeerVenvError(f"unknown peer {name!r}; known: {', '.join(sorted(PEERS))}") from None


if __name__ == "__main__":
    for peer_name in sys.argv[1:] or sorted(PEERS):
        path = ensure_venv(peer_name)
        print(f"{peer_name}: {path} (created in {(ready_info(peer_name) or {}).get('seconds')} s)")
