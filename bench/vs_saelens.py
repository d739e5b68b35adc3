"""What the benches that measure us against SAELens on SmolLM2 activations share: where things are, the hook they
read, and one run of SAELens's own trainer in its venv (``bench.peers.saelens_train``)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SAELENS_PY = REPO / ".bench" / "saelens" / "bin" / "python"
DATA_HOOK = "blocks.15.hook_resid_pre"


def run_saelens_train(spec: Any, train_path: Path, eval_path: Path, *extra: str) -> dict[str, Any]:
    """bench/peers/saelens_train.py in .bench/saelens on the arrays at ``train_path`` and ``eval_path``, configured
    by ``spec`` (a dataclass with a ``config`` name; the peer reads its JSON keys) and ``extra`` arguments; the JSON
    record it prints last."""
    if not SAELENS_PY.is_file():
        raise FileNotFoundError(
            f"{SAELENS_PY}: the SAELens bench venv is missing; run bench/peers/setup_venvs.sh"
        )
    cmd = [str(SAELENS_PY), "-m", "bench.peers.saelens_train", "--train", str(train_path)]
    cmd += ["--eval", str(eval_path), "--spec", json.dumps(asdict(spec)), *extra]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"SAELens run of {spec.config} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])
