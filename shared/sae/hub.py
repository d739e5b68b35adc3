"""The Hugging Face Hub: fetch an SAE folder (``org/name[:subfolder]``), build and upload a SAELens-layout folder.

Downloads go through ``huggingface_hub.hf_hub_download`` one file at a time, so they land in (and, with
``HF_HUB_OFFLINE=1``, are served from) the standard Hugging Face cache (``HF_HUB_CACHE`` / ``HF_HOME``). What a
folder needs: SAELens layout ``cfg.json`` + ``sae_weights.safetensors`` (+ ``activation_scaler.json`` and
``sparsity.safetensors`` when present), or Gemma Scope's ``params.npz``.

A push uploads exactly the folder ``build_push_folder`` writes: ``README.md`` (the model card) at the top and the
SAE in SAELens's layout in a subfolder (by default the hook name, as SAELens's own releases do), so
``SAE.from_pretrained("org/name", "<subfolder>")`` and ``saelab import org/name:<subfolder>`` both load it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.sae.saelens import (
    ACTIVATION_SCALER,
    GEMMA_PARAMS,
    SAELENS_CFG,
    SAELENS_WEIGHTS,
    SPARSITY,
    write_saelens,
)

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
EVAL_ROWS = (
    ("explained_variance", "explained variance", "{:.4f}"),
    ("l0", "L0 (mean active features per token)", "{:.2f}"),
    ("ce_loss_recovered", "CE loss recovered", "{:.4f}"),
    ("kl_div", "KL divergence (clean || spliced)", "{:.5f}"),
    ("ce_loss_clean", "CE loss, clean", "{:.4f}"),
    ("ce_loss_sae", "CE loss, SAE spliced in", "{:.4f}"),
    ("dead_fraction", "dead fraction", "{:.4f}"),
    ("dense_fraction", "dense fraction (> 10 % of tokens)", "{:.4f}"),
    ("n_tokens", "held-out tokens evaluated", "{:,}"),
)


class HubError(RuntimeError):
    """A Hub id that does not parse, a repo, revision or file that cannot be had; the message says which."""


@dataclass(frozen=True)
class HubFolder:
    """An SAE folder fetched from the Hub: where it lies locally and exactly which commit it came from."""

    repo_id: str
    subfolder: str
    local_dir: Path
    commit: str | None
    files: tuple[str, ...]
    layout: str
    """``saelens`` or ``gemma-npz``."""


def parse_hub_id(spec: str) -> tuple[str, str]:
    """``org/name[:subfolder]`` -> (repo id, subfolder or ``""``); anything else is an error saying the form."""
    repo_id, _, subfolder = spec.partition(":")
    if not _REPO_ID.match(repo_id) or ".." in subfolder or subfolder.startswith("/"):
        raise HubError(f"{spec!r} is not a Hub id: expected org/name or org/name:subfolder")
    return repo_id, subfolder.strip("/")


def looks_like_hub_id(spec: str) -> bool:
    """True for ``org/name[:subfolder]`` that is not an existing local path."""
    try:
        parse_hub_id(spec)
    except HubError:
        return False
    return not Path(spec).exists()


class _Missing(Exception):
    """A file that is not on the Hub (``offline`` False) or not in the cache while offline (``offline`` True)."""

    def __init__(self, offline: bool) -> None:
        super().__init__()
        self.offline = offline


def fetch_folder(
    repo_id: str, subfolder: str = "", revision: str | None = None, layout: str | None = None
) -> HubFolder:
    """Download (or find in the local cache) the files of the SAE at ``repo_id/subfolder``."""
    where = f"{repo_id}:{subfolder}" if subfolder else repo_id
    offline = False
    for candidate in [layout] if layout else ["saelens", "gemma-npz"]:
        required = [SAELENS_CFG, SAELENS_WEIGHTS] if candidate == "saelens" else [GEMMA_PARAMS]
        optional = [ACTIVATION_SCALER, SPARSITY] if candidate == "saelens" else []
        try:
            paths = [_download(repo_id, subfolder, required[0], revision)]
        except _Missing as missing:
            offline = offline or missing.offline
            continue
        try:
            paths += [_download(repo_id, subfolder, name, revision) for name in required[1:]]
        except _Missing as missing:
            raise HubError(f"{where}: {required[1]} is {_missing_text(missing)}") from None
        for name in optional:
            with contextlib.suppress(_Missing):
                paths.append(_download(repo_id, subfolder, name, revision))
        local = paths[0].parent
        return HubFolder(
            repo_id, subfolder, local, _commit_of(local), tuple(p.name for p in paths), candidate
        )
    wanted = " or ".join(
        f"{SAELENS_CFG} + {SAELENS_WEIGHTS}" if c == "saelens" else GEMMA_PARAMS
        for c in ([layout] if layout else ["saelens", "gemma-npz"])
    )
    if offline:
        raise HubError(
            f"{where}: {wanted} not in the local Hugging Face cache and the Hub cannot be reached (offline or "
            "HF_HUB_OFFLINE=1); fetch it once with network access (saelab pull)"
        )
    raise HubError(f"{where}: no SAE there (no {wanted})")


def _missing_text(missing: _Missing) -> str:
    return "not in the local cache (offline)" if missing.offline else "missing on the Hub"


def _download(repo_id: str, subfolder: str, filename: str, revision: str | None) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(hf_hub_download(repo_id, filename, subfolder=subfolder or None, revision=revision))
    except GatedRepoError:
        raise HubError(
            f"{repo_id}: gated repo; accept its terms on the Hub and log in (hf auth login)"
        ) from None
    except RepositoryNotFoundError:
        raise HubError(f"{repo_id}: no such repo on the Hub (or it is private: log in)") from None
    except RevisionNotFoundError:
        raise HubError(f"{repo_id}: no revision {revision!r}") from None
    except LocalEntryNotFoundError:  # before EntryNotFoundError: it is a subclass
        raise _Missing(offline=True) from None
    except EntryNotFoundError:
        raise _Missing(offline=False) from None


def _commit_of(local_dir: Path) -> str | None:
    """The commit hash of a cached snapshot path (``.../snapshots/<commit>/...``)."""
    parts = local_dir.parts
    if "snapshots" in parts:
        index = len(parts) - 1 - parts[::-1].index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


def copy_folder(folder: HubFolder, out: Path) -> Path:
    """Copy a fetched folder's files (resolving the cache's symlinks) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in folder.files:
        shutil.copyfile(folder.local_dir / name, out / name)
    return out


# ----------------------------------------------------------------------------------------------------------- push


def default_subfolder(hook_name: str) -> str:
    return hook_name or "sae"


def build_push_folder(run_dir: Path, out: Path, repo_id: str, subfolder: str | None = None) -> Path:
    """Write exactly what ``push`` uploads into ``out`` (replaced): README.md + ``<subfolder>/`` SAELens folder."""
    from shared.sae.io import load_sae

    parse_hub_id(repo_id)
    sae = load_sae(run_dir)
    subfolder = (subfolder or default_subfolder(sae.cfg.hook_name)).strip("/")
    if ".." in subfolder:
        raise HubError(f"subfolder {subfolder!r}: must stay inside the repo")
    if out.exists():
        shutil.rmtree(out)
    write_saelens(sae, out / subfolder)
    eval_path = run_dir / "eval.json"
    metrics = json.loads(eval_path.read_text()) if eval_path.is_file() else None
    (out / "README.md").write_text(model_card(sae.cfg, repo_id, subfolder, metrics))
    return out


def model_card(cfg: Any, repo_id: str, subfolder: str, metrics: dict[str, Any] | None) -> str:
    """A Hub model card: what the SAE reads, its shape, its held-out metrics, and how to load it."""
    from shared.sae.saelens import TO_SAELENS

    extra = cfg.extra or {}
    tokens = extra.get("trained_tokens")
    rows = [
        (
            "model",
            f"`{cfg.model_name}`" + (f" (GGUF `{cfg.model_gguf_file}`)" if cfg.model_gguf_file else ""),
        ),
        ("hook", f"`{cfg.hook_name}`"),
        ("architecture", f"saelab `{cfg.architecture}` = SAELens `{TO_SAELENS[cfg.architecture]}`"),
        ("width (d_sae)", f"{cfg.d_sae:,}"),
        ("input width (d_in)", f"{cfg.d_in:,}"),
    ]
    if cfg.k is not None:
        rows.append(("k (active features per token)", str(cfg.k)))
    rows += [
        ("context size", str(cfg.context_size)),
        ("training tokens", f"{tokens:,}" if isinstance(tokens, int) else "not recorded"),
        ("input normalisation", f"`{cfg.normalize_activations}`" + _folded(extra)),
    ]
    lines = [
        "---",
        "library_name: saelens",
        "tags: [sparse-autoencoder, saelens, saelab, interpretability]",
        "---",
        "",
        f"# Sparse autoencoder for `{cfg.model_name}` at `{cfg.hook_name}`",
        "",
        f"Trained with saelab; stored in SAELens's layout in `{subfolder}/` (cfg.json + sae_weights.safetensors).",
        "",
        "| | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in rows],
        "",
        "## Held-out evaluation",
        "",
    ]
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        for key, label, fmt in EVAL_ROWS:
            if isinstance(metrics.get(key), int | float):
                lines.append(f"| {label} | {fmt.format(metrics[key])} |")
    else:
        lines.append("Not evaluated (no eval.json in the run; `saelab evaluate --run RUN` writes it).")
    lines += [
        "",
        "## Load it",
        "",
        "SAELens:",
        "",
        "```python",
        "from sae_lens import SAE",
        "",
        f'sae = SAE.from_pretrained("{repo_id}", "{subfolder}")',
        "```",
        "",
        "saelab:",
        "",
        "```bash",
        f"saelab import {repo_id}:{subfolder} --out runs/{subfolder.replace('/', '_')}",
        "```",
        "",
    ]
    return "\n".join(lines)


def _folded(extra: dict[str, Any]) -> str:
    scale = extra.get("input_scale_folded")
    return f" (training scale {scale:.6g} folded into the weights)" if isinstance(scale, int | float) else ""


def push(folder: Path, repo_id: str, private: bool = False, message: str | None = None) -> str:
    """Upload a folder built by ``build_push_folder`` to ``repo_id`` (created if missing); the commit URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    parse_hub_id(repo_id)
    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id, folder_path=folder, commit_message=message or "Upload SAE (saelab push)"
        )
    except LocalTokenNotFoundError:
        raise HubError("no Hugging Face token: log in (hf auth login) or set HF_TOKEN") from None
    except HfHubHTTPError as err:
        raise HubError(f"{repo_id}: upload failed: {err}") from None
    return str(getattr(info, "commit_url", info))
