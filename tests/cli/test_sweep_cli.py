"""`saelab sweep` trains and evaluates every member; `saelab compare` tables them with their Pareto fronts."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from cli.main import main


def test_sweep_then_compare(tmp_path: Path, tiny_gpt2_dir, small_corpus, capsys):
    acts = tmp_path / "acts"
    collect = ["collect", "--model", str(tiny_gpt2_dir), "--corpus", str(small_corpus), "--output", str(acts)]
    collect += ["--set", "n_tokens=1024", "--set", "context_length=32", "--set", "device=cpu"]
    collect += ["--hook", "blocks.1.hook_resid_pre"]
    assert main(collect) == 0
    sweep = {
        "name": "t",
        "common": {"d_sae": 32, "batch_size": 64, "n_steps": 12, "log_every": 4, "device": "cpu", "lr": 3e-3},
        "saes": [
            {"name": "relu", "architecture": "relu", "l1_coefficient": 1.0},
            {"name": "topk", "architecture": "topk", "k": 4},
        ],
        "evaluate": {"n_tokens": 256, "ce_contexts": 2, "batch_size": 2, "device": "cpu"},
    }
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(yaml.safe_dump(sweep))
    out_dir = tmp_path / "sweep"
    capsys.readouterr()
    assert main(["sweep", "--config", str(cfg), "--activations", str(acts), "--output", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "sweep t: 2 SAEs on one batch stream, 12 steps" in out
    table = out[out.index("run  ") :]
    assert "relu" in table and "topk" in table and "front:" in table
    for name in ("relu", "topk"):
        assert (out_dir / name / "sae.safetensors").is_file() and (out_dir / name / "eval.json").is_file()

    assert main(["compare", "--sweep", str(out_dir), "--json"]) == 0
    points = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    for name in ("relu", "topk"):
        result = json.loads((out_dir / name / "eval.json").read_text())
        assert points[name]["l0"] == result["l0"]
        assert points[name]["explained_variance"] == result["explained_variance"]
        assert points[name]["ce_loss_recovered"] == result["ce_loss_recovered"]
    assert points["topk"]["k"] == 4 and points["relu"]["sparsity_coefficient"] == 1.0

    other = tmp_path / "other-acts"
    assert main([*collect[:6], str(other), *collect[7:], "--set", "seed=3"]) == 0
    assert main(["train", "--activations", str(other), "--output", str(tmp_path / "lone"),
                 "--set", "d_sae=16", "--set", "n_steps=2", "--set", "batch_size=32", "--set", "device=cpu"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["compare", str(out_dir / "relu"), str(tmp_path / "lone")]) == 2
    assert "trained on different activation sets" in capsys.readouterr().err
    assert main(["sweep", "--config", str(cfg), "--set", "saes=[]"]) == 2
    assert "saes" in capsys.readouterr().err
