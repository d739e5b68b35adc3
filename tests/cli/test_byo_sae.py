"""Bring your own SAE on the command line: import a SAELens folder, then analyse and evaluate it over a corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cli.main import main
from shared.sae import SAEConfig, create_sae
from shared.sae.saelens import write_saelens

HOOK = "blocks.2.hook_resid_pre"


def saelens_folder(path: Path, model: Path, d_sae: int = 48) -> Path:
    """A JumpReLU SAE for the tiny GPT-2 (d_model 64), written in SAELens's layout by saelab's own writer."""
    torch.manual_seed(0)
    cfg = SAEConfig("jumprelu", 64, d_sae, hook_name=HOOK, model_name=str(model), context_size=32)
    sae = create_sae(cfg)
    with torch.no_grad():
        sae.threshold.copy_(torch.rand(d_sae) * 0.05)
    return write_saelens(sae, path)


def test_imported_sae_is_collected_for_analysed_and_evaluated(tmp_path, tiny_gpt2_dir, small_corpus, capsys):
    src = saelens_folder(tmp_path / "src", tiny_gpt2_dir)
    run = tmp_path / "run"
    assert main(["import", str(src), "--out", str(run)]) == 0

    # no activations yet: both stages say what to give
    assert main(["analyse", "--run", str(run), "--set", "device=cpu"]) == 2
    assert "--corpus CORPUS --n-tokens N" in capsys.readouterr().err
    assert main(["evaluate", "--run", str(run), "--set", "device=cpu"]) == 2
    assert "--corpus CORPUS --n-tokens N" in capsys.readouterr().err

    args = ["--run", str(run), "--set", "device=cpu"]
    assert main(["analyse", *args, "--corpus", str(small_corpus), "--n-tokens", "640"]) == 0
    assert f"activations: {run / 'activations'}" in capsys.readouterr().out
    meta = json.loads((run / "activations" / "meta.json").read_text())
    # collected for the SAE's own model and hook, at the context length its cfg records
    assert (meta["model"], meta["hook"], meta["context_length"]) == (str(tiny_gpt2_dir), HOOK, 32)
    assert meta["complete"] and meta["n_contexts"] == 20
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["hook_name"] == HOOK and summary["d_sae"] == 48 and summary["n_contexts"] == 20
    assert summary["n_alive"] > 0
    assert json.loads((run / "cfg.json").read_text())["activations_path"] == "activations"

    assert main(["evaluate", *args, "--set", "n_tokens=10000"]) == 0
    out = capsys.readouterr().out
    result = json.loads((run / "eval.json").read_text())
    assert "explained variance" in out
    # never trained here: every collected context is held out
    assert result["heldout_contexts"] == 20
    for key in ("explained_variance", "l0", "ce_loss_recovered", "ce_loss_clean", "ce_loss_sae"):
        assert isinstance(result[key], float), key
    assert result["l0"] > 0


def test_collection_keys_the_sae_decides_are_refused(tmp_path, tiny_gpt2_dir, small_corpus, capsys):
    src = saelens_folder(tmp_path / "src", tiny_gpt2_dir)
    run = tmp_path / "run"
    assert main(["import", str(src), "--out", str(run)]) == 0
    assert main(["analyse", "--run", str(run), "--n-tokens", "64"]) == 2
    assert "--n-tokens: goes with --corpus" in capsys.readouterr().err
    from services.collector.byo import collect_for_run
    from services.collector.collect import CollectError

    with pytest.raises(CollectError, match="hook: set by the SAE"):
        collect_for_run(run, {"corpus": str(small_corpus), "hook": "blocks.1.hook_resid_pre"})
