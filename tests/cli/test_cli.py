"""The saelab CLI: strict config errors exit 2 naming the key; the demo picks and names its offline sources."""

from __future__ import annotations

import json

import pytest

from cli import sources
from cli.errors import CliError
from cli.main import main


def test_unknown_config_key_exits_2_naming_key_and_file(tmp_path, capsys):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("d_sae: 64\nlearning_rate: 0.1\n")
    assert main(["train", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "learning_rate: unknown key" in err


def test_override_with_impossible_value_is_rejected(capsys):
    assert main(["train", "--set", "architecture=topk", "--set", "d_sae=16", "--set", "k=32"]) == 2
    assert "k: 32 is larger than d_sae (16)" in capsys.readouterr().err


def test_malformed_override_is_rejected(capsys):
    assert main(["collect", "--set", "n_tokens"]) == 2
    assert "expected key=value" in capsys.readouterr().err


def test_offline_demo_uses_packaged_model_and_local_corpus(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = sources.resolve_demo_sources()
    assert src.model.endswith(".gguf") and src.hook == sources.SMOLLM2_HOOK
    assert src.corpus == str(sources.LOCAL_CORPUS)
    assert any("hub unreachable" in note for note in src.notes)


def test_explicit_sources_pass_through_without_network(monkeypatch):
    monkeypatch.setattr(sources, "hub_reachable", lambda timeout=3.0: pytest.fail("must not probe the hub"))
    src = sources.resolve_demo_sources("gpt2", "/data/stories.txt")
    assert (src.model, src.hook, src.corpus) == ("gpt2", "blocks.8.hook_resid_pre", "/data/stories.txt")


def test_offline_without_local_model_fails_fast_with_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sources, "packaged_smollm2", lambda: None)
    with pytest.raises(CliError, match=r"model: .*unreachable.*MODEL=/path/to/model-dir"):
        sources.resolve_demo_sources()


def test_collect_with_repeated_hook_writes_one_set_per_hook(tmp_path, tiny_gpt2_dir, small_corpus, capsys):
    hooks = ["blocks.0.hook_attn_out", "blocks.2.hook_resid_post"]
    args = [
        "collect",
        "--model",
        str(tiny_gpt2_dir),
        "--corpus",
        str(small_corpus),
        "--output",
        str(tmp_path),
    ]
    args += ["--set", "n_tokens=64", "--set", "context_length=32", "--set", "device=cpu"]
    assert main([*args, "--hook", hooks[0], "--hook", hooks[1]]) == 0
    out = capsys.readouterr().out
    for hook in hooks:
        assert f"activations: {tmp_path / hook}  ({hook})" in out
        assert json.loads((tmp_path / hook / "meta.json").read_text())["complete"]
    assert main([*args, "--output", str(tmp_path / "one"), "--hook", "blocks.3.hook_mlp_in"]) == 0
    assert json.loads((tmp_path / "one" / "meta.json").read_text())["hook"] == "blocks.3.hook_mlp_in"
    assert main([*args, "--hook", "blocks.3.hook_mlp_ot"]) == 2
    assert "did you mean hook_mlp_out" in capsys.readouterr().err


def test_demo_overrides_name_their_stage(capsys):
    assert main(["demo", "--set", "n_tokens=4096"]) == 2
    err = capsys.readouterr().err
    assert (
        "--set 'n_tokens=4096': expected STAGE.KEY=VALUE with STAGE one of collect, train, evaluate, analyse"
        in err
    )
    assert main(["demo", "--set", "trian.d_sae=64"]) == 2
    assert "'trian.d_sae=64'" in capsys.readouterr().err
