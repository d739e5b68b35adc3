"""Checking what a submission mutation sends: config sections and the job name, before anything is queued.

Configs arrive as JSON objects with the snake_case keys of ``shared.config`` and are validated by the same strict
models as the CLI; a bad value is a BAD_INPUT error whose ``field`` names it (``train.k``). Paths are the server's
business: a config that sets one is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from services.gateway.errors import BadInput
from shared.config import ConfigError, StrictModel, validate_config
from shared.settings import Settings

SERVER_PATH_KEYS: dict[str, tuple[str, ...]] = {
    "collect": ("output",),
    "train": ("activations", "output"),
    "analyse": ("run",),
    "import.collect": ("output", "model", "gguf_file", "hook"),
}
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._/-]+)?$")
MAX_NAME_CHARS = 200


def validated(section: str, cls: type[StrictModel], value: Any) -> StrictModel:
    """Validate one config section; BAD_INPUT names ``section.key`` for the first bad key."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise BadInput(
            f"{section}: expected an object of config keys, got {type(value).__name__}", field=section
        )
    for key in SERVER_PATH_KEYS.get(section, ()):
        if key in value:
            who = "the imported SAE" if section == "import.collect" else "the server"
            raise BadInput(f"{section}.{key}: chosen by {who}; leave it out", field=f"{section}.{key}")
    try:
        return validate_config(cls, value, source=section)
    except ConfigError as err:
        message = str(err)
        head = message.splitlines()[0].split(": ")
        raise BadInput(message, field=".".join(head[:2]) if len(head) > 2 else section) from None


def submission_name(name: str | None) -> str:
    """The name with its whitespace collapsed; BAD_INPUT when too long."""
    text = " ".join((name or "").split())
    if len(text) > MAX_NAME_CHARS:
        raise BadInput(f"name: at most {MAX_NAME_CHARS} characters (got {len(text)})", field="name")
    return text


def data_roots(settings: Settings) -> tuple[Path, ...]:
    """Folders under which a submission may name server files: ``SAELAB_DATA_ROOTS`` (``os.pathsep``-separated);
    unset, the artifact directory in embedded mode and none in distributed mode."""
    raw = os.environ.get("SAELAB_DATA_ROOTS")
    if raw is None:
        return () if settings.broker is not None else (settings.artifacts_dir.resolve(),)
    return tuple(Path(part.strip()).expanduser().resolve() for part in raw.split(os.pathsep) if part.strip())


def server_path(field: str, value: str, settings: Settings) -> Path:
    """``value`` resolved (symlinks and ``..`` followed) when it lies under a data root; else BAD_INPUT naming
    ``field`` and the roots. (The one place a submitted server path is checked.)"""
    roots = data_roots(settings)
    resolved = Path(value).expanduser().resolve()
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    allowed = ", ".join(str(root) for root in roots) or "none configured"
    raise BadInput(
        f"{field}: {value!r} is not under a data root the server allows (SAELAB_DATA_ROOTS: {allowed})",
        field=field,
    )


def import_source(field: str, value: str, settings: Settings) -> str:
    """An import source: an absolute server path (checked against the data roots) or a Hub id
    ``org/name[:subfolder]``; anything else is BAD_INPUT naming ``field``."""
    text = value.strip()
    if text.startswith(("/", "~")):
        server_path(field, text, settings)
        return text
    if HUB_ID.match(text) and ".." not in text:
        return text
    raise BadInput(
        f"{field}: {value!r} is neither an absolute server path nor a Hub id org/name[:subfolder]",
        field=field,
    )
