"""Bring your own SAE: collect activations for an SAE's own model and hook, so an imported SAE can be analysed.

An imported SAE (``saelab import``) has weights and a cfg naming its model and hook, but no activation set. The
collect config for it takes ``model``, ``gguf_file`` and ``hook`` from the SAE (and its context length and BOS
choice when the cfg records them); the corpus, token count and anything else come from the caller.
``collect_for_run`` collects into ``<run>/activations`` and points the run's ``cfg.json`` at it, after which
``saelab analyse`` and ``saelab evaluate`` treat the run like a trained one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.collector.collect import CollectError, collect
from shared.config import CollectConfig, validate_config
from shared.progress import ProgressSink
from shared.sae.base import SAEConfig
from shared.sae.io import read_config, set_activations_path

ACTIVATIONS_DIR = "activations"
FROM_SAE = ("model", "gguf_file", "hook")
"""Collect keys the SAE decides: activations for another model or hook would not be the ones it reads."""


def collect_keys_for(sae: SAEConfig, source: str) -> dict[str, Any]:
    """The collect-config keys an SAE fixes (model, GGUF file, hook) plus its recorded context length and BOS."""
    missing = [
        name for name, value in (("model_name", sae.model_name), ("hook_name", sae.hook_name)) if not value
    ]
    if missing:
        raise CollectError(
            f"{source}: the SAE's cfg names no {' and no '.join(missing)}, so there is no model to collect from; "
            "re-import it with --model and --hook"
        )
    keys: dict[str, Any] = {"model": sae.model_name, "gguf_file": sae.model_gguf_file, "hook": sae.hook_name}
    if sae.context_size:
        keys["context_length"] = sae.context_size
    keys["prepend_bos"] = sae.prepend_bos
    return keys


def collect_config_for(
    sae: SAEConfig, requested: dict[str, Any], output: str | Path, source: str
) -> CollectConfig:
    """A strict CollectConfig: the SAE's model and hook, the caller's corpus / n_tokens / other keys, ``output``."""
    clash = sorted(set(requested) & set(FROM_SAE))
    if clash:
        raise CollectError(f"{source}: {clash[0]}: set by the SAE ({', '.join(FROM_SAE)} come from its cfg)")
    values = collect_keys_for(sae, source) | requested | {"output": str(output)}
    return validate_config(CollectConfig, values, source=source)


def collect_for_run(
    run_dir: str | Path, requested: dict[str, Any], progress: ProgressSink | None = None
) -> Path:
    """Collect activations for the SAE of ``run_dir`` into ``run_dir/activations`` and record that path in its
    ``cfg.json``; returns the activation set's directory."""
    run_dir = Path(run_dir)
    sae = read_config(run_dir)
    cfg = collect_config_for(sae, requested, run_dir / ACTIVATIONS_DIR, source=str(run_dir / "cfg.json"))
    out = collect(cfg, progress=progress)
    set_activations_path(run_dir, ACTIVATIONS_DIR)
    return out
