"""SAELens folder layout, without SAELens: the cfg we write, every cfg age we read, folds checked by hand.

The same mappings are proved against the real SAELens in test_saelens_peer.py; here each rule is pinned against a
direct computation of SAELens's formula, and every refusal names its key.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from support.saelens import saelens_v6_cfg

from shared.sae import SAEConfig, create_sae
from shared.sae.saelens import (
    SAELensFormatError,
    build_sae,
    read_gemma_npz,
    read_saelens,
    saelens_cfg,
    write_saelens,
)

D_IN, D_SAE = 12, 40


def trained_like(arch: str, k: int | None = None, **cfg) -> torch.nn.Module:
    torch.manual_seed(3)
    sae = create_sae(
        SAEConfig(arch, D_IN, D_SAE, k=k, hook_name="blocks.3.hook_resid_pre", model_name="gpt2", **cfg)
    )
    with torch.no_grad():
        for p in sae.parameters():
            p.add_(torch.randn_like(p) * 0.2)
        if hasattr(sae, "threshold"):
            sae.threshold.copy_(torch.rand(D_SAE) * 0.3)
    return sae


def write_folder(
    path: Path, cfg: dict, tensors: dict[str, torch.Tensor], scaler: float | None = None
) -> Path:
    path.mkdir(parents=True)
    save_file({n: t.contiguous() for n, t in tensors.items()}, str(path / "sae_weights.safetensors"))
    (path / "cfg.json").write_text(json.dumps(cfg))
    if scaler is not None:
        (path / "activation_scaler.json").write_text(
            json.dumps({"scaling_factor": scaler, "has_whitening": False})
        )
    return path


def random_tensors(names=("W_enc", "b_enc", "W_dec", "b_dec")) -> dict[str, torch.Tensor]:
    torch.manual_seed(5)
    shapes = {"W_enc": (D_IN, D_SAE), "W_dec": (D_SAE, D_IN), "b_dec": (D_IN,)}
    return {n: torch.randn(shapes.get(n, (D_SAE,))) * 0.3 for n in names}


def v6_cfg(architecture: str = "standard", **extra) -> dict:
    return saelens_v6_cfg(architecture, D_IN, D_SAE, **extra)


def standard_ref(t: dict[str, torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SAELens StandardSAE: f = ReLU((x - b_dec) W_enc + b_enc), x_hat = f W_dec + b_dec."""
    f = torch.relu((x - t["b_dec"]) @ t["W_enc"] + t["b_enc"])
    return f, f @ t["W_dec"] + t["b_dec"]


# ---------------------------------------------------------------------------------------------------------- write


@pytest.mark.parametrize(
    ("arch", "k", "saelens_arch", "tensors"),
    [
        ("relu", None, "standard", ["W_dec", "W_enc", "b_dec", "b_enc"]),
        ("topk", 5, "topk", ["W_dec", "W_enc", "b_dec", "b_enc"]),
        ("jumprelu", None, "jumprelu", ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"]),
        ("batchtopk", 5, "jumprelu", ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"]),
        ("matryoshka_batchtopk", 5, "jumprelu", ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"]),
        ("gated", None, "gated", ["W_dec", "W_enc", "b_dec", "b_gate", "b_mag", "r_mag"]),
    ],
)
def test_written_folder_uses_saelens_names_files_and_tensors(tmp_path: Path, arch, k, saelens_arch, tensors):
    sae = trained_like(arch, k)
    write_saelens(sae, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cfg.json", "sae_weights.safetensors"]
    cfg = json.loads((tmp_path / "out" / "cfg.json").read_text())
    assert cfg["architecture"] == saelens_arch and (cfg["d_in"], cfg["d_sae"]) == (D_IN, D_SAE)
    assert cfg["normalize_activations"] == "none" and cfg["reshape_activations"] == "none"
    assert (
        cfg["metadata"]["hook_name"] == "blocks.3.hook_resid_pre" and cfg["metadata"]["model_name"] == "gpt2"
    )
    assert (
        cfg["metadata"]["sae_lens_version"] == "6.0.0"
    )  # SAELens reads it as a v6 cfg, not through its pre-6 path
    assert cfg["saelab"]["architecture"] == arch
    assert ("k" in cfg) == (arch == "topk") and cfg.get("rescale_acts_by_decoder_norm") in (None, False)
    written = load_file(str(tmp_path / "out" / "sae_weights.safetensors"))
    assert sorted(written) == tensors
    if "threshold" in written:
        assert written["threshold"].shape == (D_SAE,)
        torch.testing.assert_close(written["threshold"], sae.threshold.expand(D_SAE))


def test_written_folder_reads_back_to_the_same_sae(tmp_path: Path):
    for arch, k in [("relu", None), ("topk", 5), ("jumprelu", None), ("gated", None), ("batchtopk", 5)]:
        sae = trained_like(arch, k, normalize_activations="layer_norm")
        back = read_saelens(write_saelens(sae, tmp_path / arch)).sae
        x = torch.randn(20, D_IN) * 3
        torch.testing.assert_close(back.encode(x), sae.encode(x), msg=arch)
        torch.testing.assert_close(back(x), sae(x), msg=arch)
        assert back.cfg.normalize_activations == "layer_norm" and back.cfg.hook_name == sae.cfg.hook_name


def test_an_imported_saes_saelens_metadata_is_written_back(tmp_path: Path):
    cfg = v6_cfg()
    cfg["metadata"] |= {
        "model_from_pretrained_kwargs": {"center_writing_weights": True},
        "dataset_path": "owt",
    }
    sae = read_saelens(write_folder(tmp_path / "in", cfg, random_tensors())).sae
    assert sae.cfg.model_name == "gpt2"  # TransformerLens's gpt2-small, as saelab (Hugging Face) names it
    out = saelens_cfg(sae)["metadata"]
    assert out["model_name"] == "gpt2-small" and out["dataset_path"] == "owt"
    assert out["model_from_pretrained_kwargs"] == {"center_writing_weights": True}


# ----------------------------------------------------------------------------------------------------------- read


def test_pre_v1_cfg_like_the_gpt2_small_res_jb_release_reads(tmp_path: Path):
    """jbloom/GPT2-Small-SAEs-Reformatted: flat training cfg, hook_point, torch dtype, no architecture key."""
    cfg = {
        "model_name": "gpt2-small",
        "hook_point": "blocks.8.hook_resid_pre",
        "hook_point_layer": 8,
        "hook_point_head_index": None,
        "dataset_path": "Skylion007/openwebtext",
        "is_dataset_tokenized": False,
        "context_size": 128,
        "use_cached_activations": False,
        "d_in": D_IN,
        "expansion_factor": 32,
        "b_dec_init_method": "geometric_median",
        "lr": 0.0004,
        "l1_coefficient": 8e-05,
        "lr_scheduler_name": None,
        "train_batch_size": 4096,
        "dtype": "torch.float32",
        "device": "cuda",
        "d_sae": D_SAE,
    }
    t = random_tensors()
    t["scaling_factor"] = torch.ones(D_SAE)  # all ones: dropped, as SAELens does
    folder = read_saelens(write_folder(tmp_path / "jb", cfg, t))
    sae = folder.sae
    assert sae.architecture == "relu" and sae.cfg.hook_name == "blocks.8.hook_resid_pre"
    assert sae.cfg.model_name == "gpt2" and sae.cfg.context_size == 128
    assert sae.cfg.extra["saelens"]["model_name"] == "gpt2-small"
    x = torch.randn(30, D_IN)
    f, recon = standard_ref(t, x)
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), recon)


def test_old_topk_cfg_reads_k_from_activation_fn_kwargs(tmp_path: Path):
    cfg = v6_cfg(activation_fn_str="topk", activation_fn_kwargs={"k": 4})
    del cfg["metadata"]["sae_lens_version"]
    sae = read_saelens(write_folder(tmp_path / "lens", cfg, random_tensors())).sae
    assert sae.architecture == "topk" and sae.cfg.k == 4
    assert ((sae.encode(torch.randn(9, D_IN)) > 0).sum(-1) <= 4).all()


def test_topk_decoder_norm_rescaling_is_folded_exactly(tmp_path: Path):
    t = random_tensors()
    t["W_dec"] = t["W_dec"] * (torch.rand(D_SAE, 1) * 3 + 0.2)
    sae = read_saelens(
        write_folder(tmp_path / "lens", v6_cfg("topk", k=4, rescale_acts_by_decoder_norm=True), t)
    ).sae
    x = torch.randn(30, D_IN)
    norms = t["W_dec"].norm(dim=-1)
    pre = ((x - t["b_dec"]) @ t["W_enc"] + t["b_enc"]) * norms  # SAELens TopKSAE with rescaling
    vals, idx = pre.topk(4, dim=-1)
    f = torch.zeros_like(pre).scatter(-1, idx, vals.relu())
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), (f / norms) @ t["W_dec"] + t["b_dec"])


def test_finetuning_scaling_factor_folds_into_the_decoder(tmp_path: Path):
    t = random_tensors()
    t["scaling_factor"] = torch.rand(D_SAE) + 0.5
    sae = read_saelens(write_folder(tmp_path / "lens", v6_cfg(finetuning_scaling_factor=True), t)).sae
    x = torch.randn(10, D_IN)
    f, _ = standard_ref(t, x)
    torch.testing.assert_close(sae(x), (f * t["scaling_factor"]) @ t["W_dec"] + t["b_dec"])
    t["scaling_factor"] = torch.rand(D_SAE) + 0.5
    with pytest.raises(
        SAELensFormatError, match="scaling_factor is present but finetuning_scaling_factor is false"
    ):
        read_saelens(write_folder(tmp_path / "bad", v6_cfg(), t))


@pytest.mark.parametrize("where", ["activation_scaler.json", "argument", "boolean cfg + argument"])
def test_expected_average_only_in_folds_its_scaling_factor(tmp_path: Path, where):
    """An SAE trained on s * x: saelab's import reads raw x and gives SAELens's encode(s x) and decode(.) / s."""
    s = 0.37
    t = random_tensors()
    norm = True if where.startswith("boolean") else "expected_average_only_in"
    folder = write_folder(
        tmp_path / "lens",
        v6_cfg(normalize_activations=norm),
        t,
        scaler=s if where == "activation_scaler.json" else None,
    )
    read = read_saelens(folder, norm_scaling_factor=None if where == "activation_scaler.json" else s)
    sae = read.sae
    assert (
        sae.cfg.normalize_activations == "none"
        and sae.cfg.extra["saelens"]["folded_norm_scaling_factor"] == s
    )
    assert any("0.37 folded" in note for note in read.notes)
    x = torch.randn(30, D_IN) * 5
    f, recon = standard_ref(t, x * s)
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), recon / s)


def test_expected_average_only_in_without_a_factor_says_how_to_give_one(tmp_path: Path):
    folder = write_folder(
        tmp_path / "lens", v6_cfg(normalize_activations="expected_average_only_in"), random_tensors()
    )
    with pytest.raises(SAELensFormatError, match=r"no scaling factor is known.*--norm-scaling-factor"):
        read_saelens(folder)


def test_layer_norm_inputs_match_saelens_definition(tmp_path: Path):
    t = random_tensors()
    sae = read_saelens(
        write_folder(tmp_path / "lens", v6_cfg("topk", k=6, normalize_activations="layer_norm"), t)
    ).sae
    assert sae.cfg.normalize_activations == "layer_norm"
    x = torch.randn(30, D_IN) * 7 + 2
    mu = x.mean(-1, keepdim=True)
    std = (x - mu).std(-1, keepdim=True)
    xn = (x - mu) / (std + 1e-5)
    pre = (xn - t["b_dec"]) @ t["W_enc"] + t["b_enc"]
    vals, idx = pre.topk(6, dim=-1)
    f = torch.zeros_like(pre).scatter(-1, idx, vals.relu())
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), (f @ t["W_dec"] + t["b_dec"]) * std + mu)


@pytest.mark.parametrize(
    ("hook", "centred"), [("blocks.6.hook_resid_pre", True), ("blocks.6.attn.hook_z", False)]
)
def test_center_writing_weights_centres_residual_space_inputs(tmp_path: Path, hook, centred):
    """TransformerLens's center_writing_weights makes every residual vector the raw one minus its mean."""
    cfg = v6_cfg()
    cfg["metadata"] |= {"hook_name": hook, "model_from_pretrained_kwargs": {"center_writing_weights": True}}
    t = random_tensors()
    sae = read_saelens(write_folder(tmp_path / "lens", cfg, t)).sae
    assert sae.cfg.center_input is centred
    x = torch.randn(30, D_IN) + 3
    mean = x.mean(-1, keepdim=True) if centred else torch.zeros(30, 1)
    f, recon = standard_ref(t, x - mean)
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), recon + mean)
    assert saelens_cfg(sae)["metadata"]["model_from_pretrained_kwargs"] == {"center_writing_weights": True}


def test_jumprelu_and_gated_folders_match_their_formulas(tmp_path: Path):
    t = random_tensors(("W_enc", "b_enc", "W_dec", "b_dec", "threshold"))
    t["threshold"] = t["threshold"].abs()
    jump = read_saelens(write_folder(tmp_path / "jump", v6_cfg("jumprelu"), t)).sae
    x = torch.randn(30, D_IN)
    pre = (x - t["b_dec"]) @ t["W_enc"] + t["b_enc"]
    torch.testing.assert_close(jump.encode(x), pre.relu() * (pre > t["threshold"]))
    g = random_tensors(("W_enc", "W_dec", "b_dec", "b_gate", "b_mag", "r_mag"))
    gated = read_saelens(write_folder(tmp_path / "gated", v6_cfg("gated"), g)).sae
    h = x - g["b_dec"]
    expected = ((h @ g["W_enc"] + g["b_gate"]) > 0) * torch.relu(
        h @ (g["W_enc"] * g["r_mag"].exp()) + g["b_mag"]
    )
    torch.testing.assert_close(gated.encode(x), expected)


def test_gemma_scope_params_npz(tmp_path: Path):
    rng = np.random.default_rng(0)
    arrays = {
        "W_enc": rng.normal(size=(D_IN, D_SAE)).astype(np.float32),
        "W_dec": rng.normal(size=(D_SAE, D_IN)).astype(np.float32),
        "b_enc": rng.normal(size=D_SAE).astype(np.float32),
        "b_dec": rng.normal(size=D_IN).astype(np.float32),
        "threshold": np.abs(rng.normal(size=D_SAE)).astype(np.float32),
    }
    (tmp_path / "g").mkdir()
    np.savez(tmp_path / "g" / "params.npz", **arrays)
    sae = read_gemma_npz(
        tmp_path / "g", model_name="google/gemma-2-2b", hook_name="blocks.3.hook_resid_post"
    ).sae
    assert sae.architecture == "jumprelu" and sae.cfg.apply_b_dec_to_input is False
    t = {n: torch.from_numpy(a) for n, a in arrays.items()}
    x = torch.randn(30, D_IN)
    pre = x @ t["W_enc"] + t["b_enc"]  # Gemma Scope adds no b_dec before encoding
    f = pre.relu() * (pre > t["threshold"])
    torch.testing.assert_close(sae.encode(x), f)
    torch.testing.assert_close(sae(x), f @ t["W_dec"] + t["b_dec"])
    with pytest.raises(SAELensFormatError, match="expected d_in 2304"):
        read_gemma_npz(tmp_path / "g", model_name="m", hook_name="h", d_in=2304)


# --------------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"architecture": "transcoder"}, r"architecture: 'transcoder' is not supported; saelab reads SAELens's "
         r"batchtopk, gated, jumprelu, standard, topk"),
        ({"activation_fn_str": "tanh-relu"}, r"activation_fn: 'tanh-relu' is not supported \(relu, topk\)"),
        ({"normalize_activations": "constant_norm_rescale"}, r"normalize_activations: 'constant_norm_rescale' is not"
         r" supported \(none, layer_norm, expected_average_only_in"),
        ({"hook_head_index": 3}, "hook_head_index: per-head SAEs are not supported"),
        ({"d_in": D_IN + 1}, r"W_enc has shape \(12, 40\); d_in 13, d_sae 40 need \(13, 40\)"),
        ({"architecture": "topk"}, "k: a topk SAE needs an integer k"),
    ],
)  # fmt: skip
def test_unsupported_or_inconsistent_folders_name_the_problem(tmp_path: Path, change, message):
    with pytest.raises(SAELensFormatError, match=message):
        read_saelens(write_folder(tmp_path / "lens", v6_cfg() | change, random_tensors()))


def test_missing_files_are_named(tmp_path: Path):
    (tmp_path / "a").mkdir()
    with pytest.raises(SAELensFormatError, match="cfg.json: not found"):
        read_saelens(tmp_path / "a")
    (tmp_path / "a" / "cfg.json").write_text(json.dumps(v6_cfg()))
    (tmp_path / "a" / "sparsity.safetensors").write_bytes(b"")
    with pytest.raises(
        SAELensFormatError, match=r"no sae_weights.safetensors \(found: \['cfg.json', 'sparsity"
    ):
        read_saelens(tmp_path / "a")


def test_build_sae_names_a_tensor_of_the_wrong_shape_and_a_missing_one():
    cfg = SAEConfig("relu", D_IN, D_SAE)
    tensors = {n: t.clone() for n, t in create_sae(cfg).state_dict().items()}
    with pytest.raises(
        SAELensFormatError, match=rf"b_enc has shape \({D_SAE + 1},\), saelab's relu expects \({D_SAE},\)"
    ):
        build_sae(cfg, tensors | {"b_enc": torch.zeros(D_SAE + 1)}, "src")
    del tensors["b_dec"]
    with pytest.raises(
        SAELensFormatError,
        match=r"src: a relu SAE needs .*; missing tensors \['b_dec'\], unsupported tensors \[\]",
    ):
        build_sae(cfg, tensors, "src")
