"""How every bench reports: one JSON line per measurement on stdout, appended to a file too when one is named.

Standard library only, so the benches that never load torch (the gateway ones) report the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(record: dict[str, Any], out: Path | None = None) -> None:
    """Print ``record`` as one JSON line (and append it to ``out`` when given)."""
    line = json.dumps(record, sort_keys=False)
    print(line, flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a") as f:
            f.write(line + "\n")
