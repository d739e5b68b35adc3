"""Import an SAE from a folder, a Hub id or a SAELens release into a saelab run directory, with its provenance.

``import_sae`` is the one entry point (the CLI's ``saelab import`` and the job system call it). The run directory
it writes holds ``sae.safetensors`` + ``cfg.json`` (saelab's format: the SAE takes raw activations, any scaling
folded in) and ``provenance.json``: where the SAE came from (folder, or repo + subfolder + commit, or release +
SAE id), the sha256 of every source file, the source cfg as found, and what the reader translated or folded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.sae.hub import HubError, fetch_folder, looks_like_hub_id, parse_hub_id
from shared.sae.io import WEIGHTS_FILE, SAELoadError, load_sae, save_sae
from shared.sae.releases import ReleaseError, ReleaseSAE, find_release, resolve_release
from shared.sae.saelens import (
    FROM_SAELENS,
    GEMMA_PARAMS,
    SAELensFolder,
    SAELensFormatError,
    is_saelens_folder,
    read_gemma_npz,
    read_saelens,
)

PROVENANCE_FILE = "provenance.json"
PROVENANCE_FORMAT = "saelab-import/1"


class ImportSAEError(ValueError):
    """An SAE could not be imported; the message names the source and the problem."""


@dataclass
class ImportSource:
    """What to import: a local folder, a Hub id (``org/name[:subfolder]``) or a release + SAE id."""

    location: str | None = None
    release: str | None = None
    sae_id: str | None = None
    revision: str | None = None
    norm_scaling_factor: float | None = None
    """For ``expected_average_only_in`` SAEs with no stored factor (SAELens: sqrt(d_in) / mean ||x||)."""
    model_name: str | None = None
    """Overrides the model the SAE's cfg names (required for a bare ``params.npz`` folder)."""
    hook_name: str | None = None
    """Overrides the hook (required for a bare ``params.npz`` folder)."""
    expect_d_in: int | None = None
    """When given (the LM's hidden size), a different SAE d_in is an error."""
    provenance: dict[str, Any] = field(default_factory=dict)


def import_sae(source: ImportSource, out_dir: str | Path, overwrite: bool = False) -> Path:
    """Read the SAE ``source`` names and write it as a saelab run directory ``out_dir``; returns ``out_dir``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ImportSAEError(f"{out_dir}: not empty (choose another --out, or --force to replace it)")
    try:
        folder, origin, files_dir, files = _read(source)
    except (SAELensFormatError, SAELoadError, HubError, ReleaseError) as err:
        raise ImportSAEError(str(err)) from None
    sae = folder.sae
    if source.expect_d_in is not None and sae.cfg.d_in != source.expect_d_in:
        raise ImportSAEError(
            f"{origin['label']}: d_in {sae.cfg.d_in} does not match the model's hidden size {source.expect_d_in} "
            f"({sae.cfg.model_name or 'model unknown'}, {sae.cfg.hook_name or 'hook unknown'})"
        )
    sae.cfg.extra["imported_from"] = origin["label"]
    provenance = {
        "format": PROVENANCE_FORMAT,
        "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": {key: value for key, value in origin.items() if value is not None},
        "files": {name: _sha256(files_dir / name) for name in files},
        "source_cfg": folder.source_cfg,
        "notes": folder.notes,
        "sae": {
            "architecture": sae.cfg.architecture,
            "d_in": sae.cfg.d_in,
            "d_sae": sae.cfg.d_sae,
            "k": sae.cfg.k,
            "model_name": sae.cfg.model_name,
            "hook_name": sae.cfg.hook_name,
            "normalize_activations": sae.cfg.normalize_activations,
        },
    } | source.provenance
    tmp = out_dir.with_name(f".{out_dir.name}.importing")
    shutil.rmtree(tmp, ignore_errors=True)
    save_sae(sae, tmp)
    (tmp / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2, default=str))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out_dir)
    return out_dir


def _read(source: ImportSource) -> tuple[SAELensFolder, dict[str, Any], Path, list[str]]:
    """(the SAE read, where it came from, the folder its files lie in, those file names)."""
    if source.release or source.sae_id:
        if not (source.release and source.sae_id):
            raise ImportSAEError("a release import needs both --release NAME and --sae ID")
        row = resolve_release(source.release, source.sae_id)
        hub = fetch_folder(row.repo_id, row.path, source.revision, row.layout)
        origin = {"kind": "release", "label": f"{row.release}/{row.sae_id}", "release": row.release,
                  "sae_id": row.sae_id, "repo_id": row.repo_id, "subfolder": row.path,
                  "revision": source.revision, "commit": hub.commit}  # fmt: skip
        return _read_with_row(hub.local_dir, row, source), origin, hub.local_dir, list(hub.files)
    if not source.location:
        raise ImportSAEError(
            "nothing to import: give a folder, an org/name[:subfolder] Hub id, or --release/--sae"
        )
    local = Path(source.location).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ImportSAEError(
                f"{local}: not a folder (an SAE folder holds cfg.json + weights, or params.npz)"
            )
        folder = _read_local(local, source)
        files = sorted(p.name for p in local.iterdir() if p.is_file())
        origin = {"kind": "folder", "label": str(local.resolve()), "path": str(local.resolve())}
        return folder, origin, local, files
    if not looks_like_hub_id(source.location):
        raise ImportSAEError(f"{source.location}: no such folder, and not an org/name[:subfolder] Hub id")
    repo_id, subfolder = parse_hub_id(source.location)
    known = find_release(repo_id, subfolder)
    hub = fetch_folder(repo_id, subfolder, source.revision, known.layout if known else None)
    origin = {"kind": "hub", "label": source.location, "repo_id": repo_id, "subfolder": subfolder,
              "revision": source.revision, "commit": hub.commit,
              "release": known.release if known else None, "sae_id": known.sae_id if known else None}  # fmt: skip
    folder = _read_with_row(hub.local_dir, known, source) if known else _read_local(hub.local_dir, source)
    return folder, origin, hub.local_dir, list(hub.files)


def _read_local(local: Path, source: ImportSource) -> SAELensFolder:
    if is_saelens_folder(local):
        return read_saelens(
            local,
            norm_scaling_factor=source.norm_scaling_factor,
            model_name=source.model_name,
            hook_name=source.hook_name,
        )
    if (local / GEMMA_PARAMS).is_file():
        if not (source.model_name and source.hook_name):
            raise ImportSAEError(
                f"{local}: a bare {GEMMA_PARAMS} carries no cfg; give --model and --hook "
                "(or import it by release: --release gemma-scope-2b-pt-res --sae layer_N/width_16k/average_l0_M)"
            )
        return read_gemma_npz(local, model_name=source.model_name, hook_name=source.hook_name)
    if (local / WEIGHTS_FILE).is_file():
        sae = load_sae(local)
        return SAELensFolder(
            sae=sae, source_cfg=json.loads((local / "cfg.json").read_text()), notes=["saelab SAE"]
        )
    found = sorted(p.name for p in local.iterdir())
    raise ImportSAEError(
        f"{local}: not an SAE folder (SAELens: cfg.json + sae_weights.safetensors; Gemma Scope: {GEMMA_PARAMS}; "
        f"saelab: cfg.json + {WEIGHTS_FILE}); found {found}"
    )


def _read_with_row(local: Path, row: ReleaseSAE, source: ImportSource) -> SAELensFolder:
    """Read a folder of a known release: the table supplies model, hook, overrides and scaling factor."""
    model, hook = source.model_name or row.model, source.hook_name or row.hook
    if row.layout == "gemma-npz":
        return read_gemma_npz(local, model_name=model, hook_name=hook, d_in=row.d_in)
    overrides = dict(row.config_overrides)
    if row.model_from_pretrained_kwargs:
        overrides["model_from_pretrained_kwargs"] = row.model_from_pretrained_kwargs
    folder = read_saelens(
        local,
        norm_scaling_factor=source.norm_scaling_factor or row.norm_scaling_factor,
        cfg_overrides=overrides,
        model_name=model,
        hook_name=hook,
    )
    expected = FROM_SAELENS.get(row.architecture, row.architecture)
    if folder.sae.architecture != expected:
        raise ImportSAEError(
            f"{row.release}/{row.sae_id}: the folder holds a {folder.sae.architecture} SAE, the release table says "
            f"{row.architecture}"
        )
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
