"""SAE file format: save/load round trip, cfg.json names, SAELens-format directories, clear load errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from support.saelens import saelens_v6_cfg

from shared.sae import SAEConfig, SAELoadError, create_sae, load_sae, save_sae


def trained_like(arch: str, k: int | None = None):
    torch.manual_seed(1)
    cfg = SAEConfig(
        arch, 12, 40, k=k, hook_name="blocks.3.hook_resid_pre", model_name="tiny", context_size=32
    )
    sae = create_sae(cfg)
    with torch.no_grad():
        for t in sae.state_dict().values():  # parameters and buffers (thresholds) alike
            t.add_(torch.rand_like(t) * 0.1)
    return sae


ARCHS = [
    ("relu", None, {"W_enc", "b_enc", "W_dec", "b_dec"}),
    ("topk", 6, {"W_enc", "b_enc", "W_dec", "b_dec"}),
    ("batchtopk", 6, {"W_enc", "b_enc", "W_dec", "b_dec", "threshold"}),
    ("jumprelu", None, {"W_enc", "b_enc", "W_dec", "b_dec", "threshold"}),
    ("matryoshka_batchtopk", 6, {"W_enc", "b_enc", "W_dec", "b_dec", "threshold"}),
    ("gated", None, {"W_enc", "b_gate", "b_mag", "r_mag", "W_dec", "b_dec"}),
]


@pytest.mark.parametrize(("arch", "k", "names"), ARCHS, ids=[a for a, _, _ in ARCHS])
def test_save_load_round_trip_keeps_every_tensor_config_and_outputs(tmp_path: Path, arch, k, names):
    sae = trained_like(arch, k)
    save_sae(sae, tmp_path / "sae")
    assert sorted(p.name for p in (tmp_path / "sae").iterdir()) == ["cfg.json", "sae.safetensors"]
    assert set(load_file(str(tmp_path / "sae" / "sae.safetensors"))) == names
    loaded = load_sae(tmp_path / "sae")
    assert type(loaded) is type(sae) and loaded.cfg == sae.cfg
    for name, t in sae.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], t), name
    x = torch.randn(7, 12)
    torch.testing.assert_close(loaded(x), sae(x))
    assert (loaded.encode(x) > 0).any(), "the test inputs activate some latents"


def test_cfg_json_carries_contract_and_saelens_keys(tmp_path: Path):
    save_sae(trained_like("topk", 6), tmp_path)
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    for key in (
        "architecture",
        "d_in",
        "d_sae",
        "k",
        "hook_name",
        "model_name",
        "model_gguf_file",
        "context_size",
        "prepend_bos",
        "normalize_activations",
        "apply_b_dec_to_input",
        "dtype",
        "activations_path",
    ):
        assert key in cfg, key
    assert cfg["hook_layer"] == 3 and cfg["activation_fn_kwargs"] == {"k": 6}


def write_saelens_dir(path: Path, sae, cfg: dict, scaling_factor: torch.Tensor | None = None) -> Path:
    path.mkdir(parents=True)
    tensors = {n: p.detach().clone() for n, p in sae.named_parameters()}
    if scaling_factor is not None:
        tensors["scaling_factor"] = scaling_factor
    save_file(tensors, str(path / "sae_weights.safetensors"))
    (path / "cfg.json").write_text(json.dumps(cfg))
    return path


def saelens_v5_cfg(activation: str, k: int | None = None) -> dict:
    return {
        "architecture": "standard",
        "d_in": 12,
        "d_sae": 40,
        "dtype": "torch.float32",
        "device": "cpu",
        "model_name": "gpt2",
        "hook_name": "blocks.8.hook_resid_pre",
        "hook_layer": 8,
        "hook_head_index": None,
        "activation_fn_str": activation,
        "activation_fn_kwargs": {"k": k} if k else {},
        "apply_b_dec_to_input": True,
        "finetuning_scaling_factor": False,
        "sae_lens_training_version": "5.3.0",
        "prepend_bos": True,
        "dataset_path": "roneneldan/TinyStories",
        "context_size": 128,
        "normalize_activations": "none",
        "neuronpedia_id": None,
        "model_from_pretrained_kwargs": {},
    }


def test_loads_a_saelens_v5_standard_directory(tmp_path: Path):
    sae = trained_like("relu")
    loaded = load_sae(write_saelens_dir(tmp_path / "lens", sae, saelens_v5_cfg("relu")))
    assert loaded.architecture == "relu"
    assert loaded.cfg.hook_name == "blocks.8.hook_resid_pre" and loaded.cfg.model_name == "gpt2"
    assert loaded.cfg.context_size == 128
    x = torch.randn(5, 12)
    torch.testing.assert_close(loaded(x), sae(x))


def test_loads_a_saelens_v5_topk_directory_with_finetuning_scale(tmp_path: Path):
    sae = trained_like("topk", 6)
    scale = torch.rand(40) + 0.5
    cfg = saelens_v5_cfg("topk", 6) | {
        "finetuning_scaling_factor": True
    }  # SAELens refuses the scale without it
    loaded = load_sae(write_saelens_dir(tmp_path / "lens", sae, cfg, scale))
    assert loaded.architecture == "topk" and loaded.cfg.k == 6
    x = torch.randn(5, 12)
    expected = (sae.encode(x) * scale) @ sae.W_dec + sae.b_dec
    torch.testing.assert_close(loaded(x), expected)


def test_loads_a_saelens_v6_topk_directory_with_metadata(tmp_path: Path):
    sae = trained_like("topk", 6)
    metadata = {
        "model_name": "gpt2",
        "hook_name": "blocks.5.hook_resid_post",
        "context_size": 64,
        "prepend_bos": False,
    }
    cfg = saelens_v6_cfg("topk", 12, 40, metadata, k=6)
    loaded = load_sae(write_saelens_dir(tmp_path / "lens", sae, cfg))
    assert loaded.cfg.k == 6 and loaded.cfg.hook_name == "blocks.5.hook_resid_post"
    assert loaded.cfg.context_size == 64 and loaded.cfg.prepend_bos is False
    x = torch.randn(5, 12)
    torch.testing.assert_close(loaded(x), sae(x))


def test_unsupported_saelens_architecture_names_the_key(tmp_path: Path):
    cfg = saelens_v5_cfg("relu") | {"architecture": "transcoder"}
    path = write_saelens_dir(tmp_path / "lens", trained_like("relu"), cfg)
    with pytest.raises(SAELoadError, match="architecture: 'transcoder' is not supported"):
        load_sae(path)


def test_an_architecture_missing_its_own_tensor_names_it(tmp_path: Path):
    cfg = saelens_v5_cfg("relu") | {"architecture": "jumprelu"}
    path = write_saelens_dir(tmp_path / "lens", trained_like("relu"), cfg)
    with pytest.raises(SAELoadError, match=r"jumprelu SAE needs .*missing tensors \['threshold'\]"):
        load_sae(path)


def test_a_saelens_log_threshold_becomes_the_threshold(tmp_path: Path):
    sae = trained_like("jumprelu")
    path = tmp_path / "lens"
    path.mkdir()
    tensors = {n: t.detach().clone() for n, t in sae.state_dict().items()}
    tensors["log_threshold"] = tensors.pop("threshold").log()
    save_file(tensors, str(path / "sae_weights.safetensors"))
    (path / "cfg.json").write_text(json.dumps(saelens_v5_cfg("relu") | {"architecture": "jumprelu"}))
    loaded = load_sae(path)
    torch.testing.assert_close(loaded.threshold, sae.threshold)
    x = torch.randn(5, 12)
    torch.testing.assert_close(loaded(x), sae(x))


def test_shape_mismatch_and_missing_files_are_clear_errors(tmp_path: Path):
    sae = trained_like("relu")
    path = write_saelens_dir(tmp_path / "lens", sae, saelens_v5_cfg("relu") | {"d_sae": 41})
    with pytest.raises(SAELoadError, match="W_enc has shape"):
        load_sae(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SAELoadError, match="cfg.json: not found"):
        load_sae(tmp_path / "empty")


def test_saelab_weights_that_disagree_with_cfg_json_name_the_tensor(tmp_path: Path):
    sae = trained_like("relu")
    save_sae(sae, tmp_path / "run")
    weights = tmp_path / "run" / "sae.safetensors"
    tensors = load_file(str(weights))
    save_file(tensors | {"b_enc": torch.zeros(41)}, str(weights))
    with pytest.raises(SAELoadError, match=r"b_enc has shape \(41,\), cfg.json says \(40,\)"):
        load_sae(tmp_path / "run")
    save_file(tensors | {"extra": torch.zeros(1)}, str(weights))
    with pytest.raises(
        SAELoadError, match=r"missing tensors \[\], unsupported tensors \['extra'\] for a relu SAE"
    ):
        load_sae(tmp_path / "run")
