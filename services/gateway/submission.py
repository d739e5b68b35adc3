"""Checking what a submission mutation sends: config sections and the job name, before anything is queued.

Configs arrive as JSON objects with the snake_case keys of ``shared.config`` and are validated by the same strict
models as the CLI; a bad value is a BAD_INPUT error whose ``field`` names it (``train.k``). Output paths are the
server's business: a config that sets one is refused. Source paths (corpus, model, GGUF file) pass the fence of
``shared.paths``: a hub id, or a path under the data roots that exists (handed to the worker resolved).
"""

from __future__ import annotations

import re
from typing import Any

from services.gateway.errors import BadInput
from services.gateway.limits import check_unicode
from shared.config import CollectConfig, ConfigError, EvaluateConfig, StrictModel, validate_config
from shared.paths import PathRefused, data_roots, fence_model, hub_or_path
from shared.settings import Settings

SERVER_PATH_KEYS: dict[str, tuple[str, ...]] = {
    "collect": ("output",),
    "train": ("activations", "output"),
    "evaluate": ("run",),
    "analyse": ("run",),
    "import.collect": ("output", "model", "gguf_file", "hook"),
}
HUB_SUBFOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._/-]+)?$")
"""``org/name`` or ``org/name:subfolder``: how SAE folders on the Hub are named (``saelab import``)."""
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


def evaluate_choice(value: Any) -> bool | StrictModel:
    """``evaluate``: true (default settings), false (no evaluation) or an object of EvaluateConfig keys."""
    if isinstance(value, bool):
        return value
    if value is None:
        raise BadInput(
            "evaluate: expected true, false or an object of config keys, got null", field="evaluate"
        )
    return validated("evaluate", EvaluateConfig, value)


def submission_name(name: str | None) -> str:
    """The name with its whitespace collapsed; BAD_INPUT when too long."""
    text = " ".join((name or "").split())
    if len(text) > MAX_NAME_CHARS:
        raise BadInput(f"name: at most {MAX_NAME_CHARS} characters (got {len(text)})", field="name")
    return check_unicode(text, "name")


def fenced_collect(collect: CollectConfig, settings: Settings) -> CollectConfig:
    """The collect config with its corpus and model checked against the data roots (resolved when local paths).

    BAD_INPUT names ``collect.corpus``, ``collect.model`` or ``collect.gguf_file`` and the allowed roots."""
    roots = data_roots(settings)
    try:
        corpus = hub_or_path(collect.corpus, "collect.corpus", roots)
        model, gguf_file = fence_model(collect.model, collect.gguf_file, roots, prefix="collect.")
    except PathRefused as err:
        raise BadInput(str(err), field=err.field) from None
    return collect.model_copy(update={"corpus": corpus, "model": model, "gguf_file": gguf_file})


def import_source(field: str, value: str, settings: Settings) -> str:
    """An import source: a Hub id ``org/name[:subfolder]`` unchanged, or a server folder checked against the data
    roots and returned as its reference ``@<root>/<path>``; anything else is BAD_INPUT naming ``field``."""
    text = value.strip()
    if ":" in text and HUB_SUBFOLDER.match(text) and ".." not in text:
        return text
    try:
        source = hub_or_path(text, field, data_roots(settings), "dir")
    except PathRefused as err:
        raise BadInput(str(err), field=err.field) from None
    if not source.startswith("@") and not HUB_SUBFOLDER.match(source):
        raise BadInput(f"{field}: {value!r}: a Hub id needs its owner: org/name[:subfolder]", field=field)
    return source


def fenced_corpus(corpus: str, settings: Settings, field: str = "collect.corpus") -> str:
    """A corpus: a hub dataset unchanged, or a local file or folder fenced and returned as its reference."""
    try:
        return hub_or_path(corpus, field, data_roots(settings))
    except PathRefused as err:
        raise BadInput(str(err), field=err.field) from None
