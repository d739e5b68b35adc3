"""``read_json``: a JSON file read with the caller's error type for a missing file and for invalid JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path, error: type[Exception], missing: str) -> Any:
    """The parsed content of ``path``; raises ``error(missing)`` when it is not a file, ``error`` naming the path
    and the parser's complaint when it is not valid JSON."""
    if not path.is_file():
        raise error(missing)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise error(f"{path}: not valid JSON: {err}") from None
