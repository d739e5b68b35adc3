"""``import_sae``, the entry point the CLI and the job system share: a run directory with provenance, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.sae import SAEConfig, create_sae, load_sae, save_sae
from shared.sae.imports import ImportSAEError, ImportSource, import_sae
from shared.sae.saelens import write_saelens


def saelens_folder(path: Path) -> Path:
    torch.manual_seed(0)
    sae = create_sae(SAEConfig("jumprelu", 8, 24, hook_name="blocks.2.hook_resid_post", model_name="gpt2"))
    with torch.no_grad():
        sae.threshold.copy_(torch.rand(24) * 0.2)
    return write_saelens(sae, path)


def test_a_folder_becomes_a_run_directory_with_provenance(tmp_path: Path):
    src = saelens_folder(tmp_path / "src")
    run = import_sae(ImportSource(location=str(src)), tmp_path / "run")
    assert sorted(p.name for p in run.iterdir()) == ["cfg.json", "provenance.json", "sae.safetensors"]
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["format"] == "saelab-import/1" and prov["source"]["kind"] == "folder"
    assert set(prov["files"]) == {"cfg.json", "sae_weights.safetensors"}
    assert (
        prov["sae"]["architecture"] == "jumprelu" and prov["sae"]["hook_name"] == "blocks.2.hook_resid_post"
    )
    sae = load_sae(run)
    assert sae.cfg.extra["imported_from"] == str(src.resolve())
    x = torch.randn(10, 8)
    torch.testing.assert_close(sae(x), load_sae(src)(x))


def test_refusals_name_the_problem(tmp_path: Path):
    src = saelens_folder(tmp_path / "src")
    with pytest.raises(ImportSAEError, match="d_in 8 does not match the model's hidden size 768"):
        import_sae(ImportSource(location=str(src), expect_d_in=768), tmp_path / "a")
    import_sae(ImportSource(location=str(src)), tmp_path / "b")
    with pytest.raises(ImportSAEError, match="not empty"):
        import_sae(ImportSource(location=str(src)), tmp_path / "b")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hi")
    with pytest.raises(ImportSAEError, match=r"not an SAE folder .*found \['notes.txt'\]"):
        import_sae(ImportSource(location=str(tmp_path / "junk")), tmp_path / "c")
    with pytest.raises(ImportSAEError, match="no such folder, and not an org/name"):
        import_sae(ImportSource(location=str(tmp_path / "missing" / "deeper" / "x")), tmp_path / "d")
    with pytest.raises(ImportSAEError, match="needs both --release NAME and --sae ID"):
        import_sae(ImportSource(release="gpt2-small-res-jb"), tmp_path / "e")
    (tmp_path / "npz").mkdir()
    np.savez(tmp_path / "npz" / "params.npz", W_enc=np.zeros((8, 24), np.float32))
    with pytest.raises(ImportSAEError, match="bare params.npz carries no cfg; give --model and --hook"):
        import_sae(ImportSource(location=str(tmp_path / "npz")), tmp_path / "f")
    assert not any((tmp_path / n).exists() for n in "acdef")


def test_a_saelab_run_imports_as_itself(tmp_path: Path):
    sae = create_sae(SAEConfig("topk", 8, 24, k=3))
    save_sae(sae, tmp_path / "run")
    out = import_sae(ImportSource(location=str(tmp_path / "run")), tmp_path / "copy")
    x = torch.randn(4, 8)
    torch.testing.assert_close(load_sae(out)(x), sae(x))
