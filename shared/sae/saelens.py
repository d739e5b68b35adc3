"""SAELens's folder layout both ways: write any saelab SAE as a folder SAELens v6 loads; read SAELens folders.

Written (``write_saelens``), the layout ``SAE.load_from_disk`` reads in SAELens 6::

    cfg.json                  architecture (SAELens name), d_in, d_sae, dtype, device, apply_b_dec_to_input,
                              normalize_activations, reshape_activations, metadata {model_name, hook_name, ...,
                              sae_lens_version: "6.0.0" = the cfg layout}, k (topk), saelab {provenance}
    sae_weights.safetensors   W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec (+ threshold, gated tensors)

Read (``read_saelens``): SAELens 6 cfgs and the older flat ones (``hook_point``, ``activation_fn_str``,
``activation_fn_kwargs.k``, boolean ``normalize_activations``, ``torch.float32``), the architectures saelab runs
(standard, topk, jumprelu, gated, and a training-time batchtopk checkpoint, which runs as JumpReLU as in SAELens),
a legacy ``scaling_factor`` tensor, ``rescale_acts_by_decoder_norm`` (folded), and ``expected_average_only_in``
SAEs (their scaling factor folded into the weights, from ``activation_scaler.json``, the release table or the
caller). Gemma Scope's ``params.npz`` folders are read by ``read_gemma_npz`` (their cfg comes from the caller).
The normalisation rules are in docs/theory.md, "SAELens interop".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from shared.jsonfile import read_json
from shared.sae.base import SAE, SAEConfig, cast_to_state, first_wrong_shape, state_mismatch
from shared.sae.registry import ARCHITECTURES, create_sae

SAELENS_WEIGHTS = "sae_weights.safetensors"
SAELENS_CFG = "cfg.json"
SPARSITY = "sparsity.safetensors"
ACTIVATION_SCALER = "activation_scaler.json"
GEMMA_PARAMS = "params.npz"
CFG_LAYOUT_VERSION = "6.0.0"
"""``metadata.sae_lens_version`` we write: the cfg follows SAELens 6's layout (older versions are converted by
SAELens's pre-6 path, which would drop keys we write)."""

TO_SAELENS = {
    "relu": "standard",
    "topk": "topk",
    "jumprelu": "jumprelu",
    "batchtopk": "jumprelu",
    "matryoshka_batchtopk": "jumprelu",
    "gated": "gated",
}
"""saelab architecture -> the SAELens inference architecture that computes the same thing (SAELens itself saves
BatchTopK and Matryoshka BatchTopK SAEs as JumpReLU with their learned threshold)."""
FROM_SAELENS = {
    "standard": "relu",
    "topk": "topk",
    "jumprelu": "jumprelu",
    "gated": "gated",
    "batchtopk": "jumprelu",
}
"""SAELens architecture (inference, or a batchtopk training checkpoint) -> the saelab class that runs it."""
GATED_TENSORS = ("b_gate", "b_mag", "r_mag")
_RENAMES = {
    "hook_point": "hook_name",
    "hook_point_head_index": "hook_head_index",
    "activation_fn_str": "activation_fn",
}


class SAELensFormatError(ValueError):
    """A SAELens folder saelab cannot read or run; the message names the file, the key and what is supported."""


@dataclass
class SAELensFolder:
    """A folder read into a saelab SAE, with the cfg as found and what the reader translated or folded."""

    sae: SAE
    source_cfg: dict[str, Any]
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------- write


def saelens_cfg(sae: SAE) -> dict[str, Any]:
    """The ``cfg.json`` SAELens v6 reads for ``sae`` (which must work on raw activations or ``layer_norm``)."""
    cfg = sae.cfg
    if cfg.architecture not in TO_SAELENS:
        raise SAELensFormatError(
            f"architecture: {cfg.architecture!r} has no SAELens equivalent ({', '.join(sorted(TO_SAELENS))})"
        )
    lens = dict(cfg.extra.get("saelens") or {})  # what an imported SAE carried, written back as it was
    metadata: dict[str, Any] = {
        "sae_lens_version": CFG_LAYOUT_VERSION,
        "sae_lens_training_version": None,
        "model_name": lens.get("model_name") or cfg.model_name,
        "hook_name": cfg.hook_name,
        "hook_head_index": None,
        "context_size": cfg.context_size,
        "prepend_bos": cfg.prepend_bos,
        "dataset_path": lens.get("dataset_path"),
    }
    model_kwargs = dict(lens.get("model_from_pretrained_kwargs") or {})
    if cfg.center_input:  # SAELens has no run-time centring: it is how the model must be loaded
        model_kwargs["center_writing_weights"] = True
    metadata["model_from_pretrained_kwargs"] = model_kwargs
    out: dict[str, Any] = {
        "architecture": TO_SAELENS[cfg.architecture],
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
        "normalize_activations": cfg.normalize_activations,
        "reshape_activations": "none",
        "metadata": metadata,
    }
    if cfg.architecture == "topk":
        out |= {"k": cfg.k, "rescale_acts_by_decoder_norm": False}
    out["saelab"] = {
        "architecture": cfg.architecture,
        "k": cfg.k,
        "model_name": cfg.model_name,
        "model_gguf_file": cfg.model_gguf_file,
        "provenance": {key: value for key, value in cfg.extra.items() if key != "saelens"},
    }
    return out


def saelens_tensors(sae: SAE) -> dict[str, Tensor]:
    """The state dict SAELens's class for ``saelens_cfg(sae)["architecture"]`` loads (float32, contiguous)."""
    state = {name: t.detach().to("cpu", torch.float32).contiguous() for name, t in sae.state_dict().items()}
    target = TO_SAELENS[sae.architecture]
    if target == "jumprelu":
        state["threshold"] = _jumprelu_threshold(sae, state).contiguous()
    keep = {
        "standard": ("W_enc", "b_enc", "W_dec", "b_dec"),
        "topk": ("W_enc", "b_enc", "W_dec", "b_dec"),
        "jumprelu": ("W_enc", "b_enc", "W_dec", "b_dec", "threshold"),
        "gated": ("W_enc", "W_dec", "b_dec", *GATED_TENSORS),
    }[target]
    missing = [name for name in keep if name not in state]
    if missing:
        raise SAELensFormatError(f"{sae.architecture} SAE has no {missing} for SAELens's {target}")
    return {name: state[name] for name in keep}


def _jumprelu_threshold(sae: SAE, state: dict[str, Tensor]) -> Tensor:
    """Per-latent JumpReLU threshold ``[d_sae]``: a JumpReLU's own, or the BatchTopK family's learned one."""
    if "threshold" not in state:
        raise SAELensFormatError(f"{sae.architecture} SAE has no threshold to save as SAELens's jumprelu")
    value = state["threshold"]
    return value.expand(sae.cfg.d_sae).clone() if value.dim() == 0 else value


def write_saelens(sae: SAE, directory: str | Path) -> Path:
    """Write ``sae`` as a SAELens folder (``sae_weights.safetensors`` + ``cfg.json``) in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cfg = saelens_cfg(sae)
    save_file(saelens_tensors(sae), str(directory / SAELENS_WEIGHTS))
    (directory / SAELENS_CFG).write_text(json.dumps(cfg, indent=2))
    return directory


# ----------------------------------------------------------------------------------------------------------- read


def is_saelens_folder(directory: Path) -> bool:
    return (directory / SAELENS_WEIGHTS).is_file() and (directory / SAELENS_CFG).is_file()


def read_saelens(
    directory: str | Path,
    *,
    norm_scaling_factor: float | None = None,
    cfg_overrides: dict[str, Any] | None = None,
    model_name: str | None = None,
    hook_name: str | None = None,
) -> SAELensFolder:
    """Read a SAELens folder into a saelab SAE that takes raw activations (see the module docstring)."""
    from shared.sae.releases import hf_model_name

    directory = Path(directory)
    cfg_path = directory / SAELENS_CFG
    raw = read_json(
        cfg_path,
        SAELensFormatError,
        f"{cfg_path}: not found (a SAELens folder holds {SAELENS_CFG} + {SAELENS_WEIGHTS})",
    )
    raw |= cfg_overrides or {}
    merged = {**raw, **(raw.get("metadata") or {}), **(cfg_overrides or {})}  # overrides win, as in SAELens
    flat = {_RENAMES.get(k, k): v for k, v in merged.items()}
    weights = directory / SAELENS_WEIGHTS
    if not weights.is_file():
        found = sorted(p.name for p in directory.iterdir())
        raise SAELensFormatError(f"{directory}: no {SAELENS_WEIGHTS} (found: {found})")
    tensors = {name: t.to(torch.float32) for name, t in load_file(str(weights)).items()}
    notes: list[str] = []
    source_arch, arch, k = _architecture(flat, cfg_path)
    if flat.get("hook_head_index") is not None:
        raise SAELensFormatError(f"{cfg_path}: hook_head_index: per-head SAEs are not supported")
    d_in, d_sae = _dims(flat, tensors, cfg_path)
    _check_shapes(tensors, d_in, d_sae, weights)
    _fold_legacy_scaling_factor(tensors, flat, weights, notes)
    if source_arch in ("topk", "batchtopk") and flat.get("rescale_acts_by_decoder_norm"):
        _fold_decoder_norms(tensors)
        notes.append("rescale_acts_by_decoder_norm folded into W_enc, b_enc and W_dec (SAELens's own fold)")
    if source_arch == "batchtopk":
        if "topk_threshold" not in tensors:
            raise SAELensFormatError(f"{weights}: a batchtopk checkpoint needs its topk_threshold tensor")
        tensors["threshold"] = tensors.pop("topk_threshold").reshape(()).expand(d_sae).clone()
        notes.append("batchtopk checkpoint run as JumpReLU with its learned threshold, as SAELens saves it")
    norm, scale = _normalisation(flat, directory, norm_scaling_factor, cfg_path)
    original_model = flat.get("model_name") or ""
    lens_meta = {
        "architecture": raw.get("architecture", "standard"),
        "model_name": original_model,
        "hook_name": flat.get("hook_name"),
        "dtype": str(flat.get("dtype") or "float32"),
        "sae_lens_version": flat.get("sae_lens_version"),
        "sae_lens_training_version": flat.get("sae_lens_training_version"),
        "normalize_activations": flat.get("normalize_activations"),
        "dataset_path": flat.get("dataset_path"),
        "model_from_pretrained_kwargs": flat.get("model_from_pretrained_kwargs") or {},
    }
    if scale is not None:
        lens_meta["folded_norm_scaling_factor"] = scale
    hook = hook_name or flat.get("hook_name") or ""
    center = centred_residual(lens_meta["model_from_pretrained_kwargs"], hook)
    if center:
        notes.append(
            "inputs centred per token, as TransformerLens's center_writing_weights centres the residual"
        )
    cfg = SAEConfig(
        architecture=arch,
        d_in=d_in,
        d_sae=d_sae,
        k=k,
        hook_name=hook,
        model_name=model_name or (hf_model_name(original_model) if original_model else ""),
        context_size=flat.get("context_size"),
        prepend_bos=bool(flat.get("prepend_bos", True)),
        normalize_activations=norm,
        center_input=center,
        apply_b_dec_to_input=bool(flat.get("apply_b_dec_to_input", True)),
        extra={"saelens": lens_meta},
    )
    sae = build_sae(cfg, tensors, str(weights))
    if scale is not None:
        sae.fold_input_scale(scale)
        notes.append(
            f"expected_average_only_in: scaling factor {scale:.6g} folded into W_enc, W_dec and b_dec"
        )
    return SAELensFolder(sae=sae.eval(), source_cfg=raw, notes=notes)


def read_gemma_npz(
    directory: str | Path, *, model_name: str, hook_name: str, d_in: int | None = None
) -> SAELensFolder:
    """A Gemma Scope folder (``params.npz``: W_enc, W_dec, b_enc, b_dec, threshold) as a saelab JumpReLU SAE.

    Gemma Scope's SAEs read raw residual activations, add no ``b_dec`` before encoding
    (``apply_b_dec_to_input: false``) and have no normalisation, as SAELens's gemma_2 loader declares.
    """
    path = Path(directory) / GEMMA_PARAMS
    if not path.is_file():
        raise SAELensFormatError(f"{path}: not found (a Gemma Scope folder holds {GEMMA_PARAMS})")
    with np.load(path) as data:
        tensors = {
            ("W_" + key[2:] if key.startswith("w_") else key): torch.from_numpy(data[key]).float()
            for key in data
        }
    missing = [name for name in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold") if name not in tensors]
    if missing:
        raise SAELensFormatError(f"{path}: missing arrays {missing} (found {sorted(tensors)})")
    found_d_in, d_sae = (int(n) for n in tensors["W_enc"].shape)
    if d_in is not None and d_in != found_d_in:
        raise SAELensFormatError(f"{path}: W_enc is {tuple(tensors['W_enc'].shape)}, expected d_in {d_in}")
    _check_shapes(tensors, found_d_in, d_sae, path)
    cfg = SAEConfig(
        architecture="jumprelu",
        d_in=found_d_in,
        d_sae=d_sae,
        hook_name=hook_name,
        model_name=model_name,
        context_size=1024,
        apply_b_dec_to_input=False,
        extra={"saelens": {"architecture": "jumprelu", "layout": "gemma-npz", "dtype": "float32"}},
    )
    raw = {"architecture": "jumprelu", "d_in": found_d_in, "d_sae": d_sae, "apply_b_dec_to_input": False}
    return SAELensFolder(
        sae=build_sae(cfg, tensors, str(path)).eval(), source_cfg=raw, notes=["Gemma Scope params.npz"]
    )


def build_sae(cfg: SAEConfig, tensors: dict[str, Tensor], source: str) -> SAE:
    """A saelab SAE of ``cfg.architecture`` holding SAELens-named ``tensors`` (unknown extras are an error)."""
    if cfg.architecture not in ARCHITECTURES:
        raise SAELensFormatError(
            f"{source}: architecture {cfg.architecture!r} has no saelab class yet "
            f"(this build runs: {', '.join(sorted(ARCHITECTURES))})"
        )
    tensors = dict(tensors)
    tensors.pop("scaling_factor", None)
    if "log_threshold" in tensors and "threshold" not in tensors:  # SAELens < 6 JumpReLU checkpoints
        tensors["threshold"] = tensors.pop("log_threshold").exp()
    sae = create_sae(cfg)
    state = sae.state_dict()
    missing, unknown = state_mismatch(state, tensors)
    if unknown or missing:
        raise SAELensFormatError(
            f"{source}: a {cfg.architecture} SAE needs {sorted(state)}; "
            f"missing tensors {missing}, unsupported tensors {unknown}"
        )
    wrong = first_wrong_shape(state, tensors)
    if wrong is not None:
        name, got, want = wrong
        raise SAELensFormatError(
            f"{source}: {name} has shape {got}, saelab's {cfg.architecture} expects {want}"
        )
    sae.load_state_dict(cast_to_state(state, tensors))
    return sae


# -------------------------------------------------------------------------------------------------------- helpers

RESIDUAL_SPACE_HOOKS = (
    "hook_resid_pre",
    "hook_resid_mid",
    "hook_resid_post",
    "hook_attn_out",
    "hook_mlp_out",
)


def centred_residual(model_kwargs: dict[str, Any], hook_name: str) -> bool:
    """Whether an SAE reads TransformerLens activations centred by ``center_writing_weights``: every vector written
    to the residual stream has its mean removed, so resid, attn_out and mlp_out are the raw ones minus their mean."""
    return bool((model_kwargs or {}).get("center_writing_weights")) and hook_name.endswith(
        RESIDUAL_SPACE_HOOKS
    )


def _architecture(flat: dict[str, Any], source: Path) -> tuple[str, str, int | None]:
    """(SAELens architecture, saelab architecture, k) of a cfg, old or new."""
    arch = flat.get("architecture") or "standard"
    activation = flat.get("activation_fn") or "relu"
    kwargs = flat.get("activation_fn_kwargs") or {}
    if arch == "standard" and activation == "topk":
        arch = "topk"
    elif arch == "standard" and activation != "relu":
        raise SAELensFormatError(f"{source}: activation_fn: {activation!r} is not supported (relu, topk)")
    if arch not in FROM_SAELENS:
        raise SAELensFormatError(
            f"{source}: architecture: {arch!r} is not supported; saelab reads SAELens's "
            f"{', '.join(sorted(FROM_SAELENS))}"
        )
    if arch != "topk":
        return arch, FROM_SAELENS[arch], None
    k = flat.get("k", kwargs.get("k"))
    if not isinstance(k, int) or isinstance(k, bool):
        raise SAELensFormatError(
            f"{source}: k: a topk SAE needs an integer k (or activation_fn_kwargs.k), got {k!r}"
        )
    return arch, "topk", k


def _dims(flat: dict[str, Any], tensors: dict[str, Tensor], source: Path) -> tuple[int, int]:
    if "W_enc" not in tensors or tensors["W_enc"].dim() != 2:
        raise SAELensFormatError(
            f"{source.parent / SAELENS_WEIGHTS}: no 2-d W_enc tensor (found {sorted(tensors)})"
        )
    found = tuple(int(n) for n in tensors["W_enc"].shape)
    d_in, d_sae = flat.get("d_in", found[0]), flat.get("d_sae") or found[1]
    for key, value in (("d_in", d_in), ("d_sae", d_sae)):
        if not isinstance(value, int) or value < 1:
            raise SAELensFormatError(f"{source}: {key}: expected a positive integer, got {value!r}")
    return d_in, d_sae


def _check_shapes(tensors: dict[str, Tensor], d_in: int, d_sae: int, source: Path) -> None:
    expected = {"W_enc": (d_in, d_sae), "W_dec": (d_sae, d_in), "b_dec": (d_in,), "b_enc": (d_sae,)}
    expected |= {name: (d_sae,) for name in ("threshold", "log_threshold", "scaling_factor", *GATED_TENSORS)}
    for name, shape in expected.items():
        if name in tensors and tuple(tensors[name].shape) != shape:
            raise SAELensFormatError(
                f"{source}: {name} has shape {tuple(tensors[name].shape)}; d_in {d_in}, d_sae {d_sae} need {shape}"
            )


def _fold_legacy_scaling_factor(
    tensors: dict[str, Tensor], flat: dict[str, Any], source: Path, notes: list[str]
) -> None:
    """A SAELens < 6 ``scaling_factor`` multiplies the feature activations before decoding: fold it into W_dec."""
    scale = tensors.pop("scaling_factor", None)
    if scale is None or torch.allclose(scale, torch.ones_like(scale)):
        return
    if not flat.get("finetuning_scaling_factor"):
        raise SAELensFormatError(
            f"{source}: scaling_factor is present but finetuning_scaling_factor is false"
        )
    tensors["W_dec"] = tensors["W_dec"] * scale[:, None]
    notes.append("finetuning scaling_factor folded into W_dec")


def _fold_decoder_norms(tensors: dict[str, Tensor]) -> None:
    norms = tensors["W_dec"].norm(dim=-1).clamp(min=1e-8)
    tensors["b_enc"] = tensors["b_enc"] * norms
    tensors["W_dec"] = tensors["W_dec"] / norms[:, None]
    tensors["W_enc"] = tensors["W_enc"] * norms[None, :]


def _normalisation(
    flat: dict[str, Any], directory: Path, given: float | None, source: Path
) -> tuple[str, float | None]:
    """(runtime normalisation saelab keeps, scaling factor to fold) for the cfg's ``normalize_activations``."""
    norm = flat.get("normalize_activations")
    norm = {True: "expected_average_only_in", False: "none", None: "none"}.get(norm, norm)
    if norm in ("none", "layer_norm"):
        return norm, None
    if norm != "expected_average_only_in":
        raise SAELensFormatError(
            f"{source}: normalize_activations: {norm!r} is not supported "
            "(none, layer_norm, expected_average_only_in with a known scaling factor)"
        )
    scale = given
    scaler = directory / ACTIVATION_SCALER
    if scale is None and scaler.is_file():
        scale = json.loads(scaler.read_text()).get("scaling_factor")
    if scale is None:
        raise SAELensFormatError(
            f"{source}: normalize_activations is expected_average_only_in but no scaling factor is known (no "
            f"{ACTIVATION_SCALER} in the folder, none in the release table): give it (saelab import "
            "--norm-scaling-factor X; SAELens's is sqrt(d_in) / mean ||x|| over the training activations)"
        )
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise SAELensFormatError(f"{source}: norm scaling factor must be a positive number, got {scale!r}")
    return "none", float(scale)
