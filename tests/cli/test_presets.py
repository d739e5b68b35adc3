"""The demo's presets: every configs/demo_*.yaml validates, the spec's quick run keeps its name, a preset never names
the sources or outputs, bad presets fail naming the problem, and `saelab demo --preset FILE` runs all four stages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli import presets
from cli.errors import CliError
from cli.main import main
from cli.sources import DemoSources
from shared.config import ConfigError

SOURCES = DemoSources(model="smollm2", hook="blocks.15.hook_resid_pre", corpus="../shared/data/tinystories")


def test_every_preset_validates_with_the_sources_and_outputs_filled_in(tmp_path):
    names = presets.preset_names()
    assert names[0] == "default" and "spec" in names
    for name in names:
        p = presets.load_preset(name, SOURCES, tmp_path / name)
        assert (p.collect.model, p.collect.hook, p.collect.corpus) == (
            "smollm2",
            SOURCES.hook,
            SOURCES.corpus,
        )
        assert p.collect.output == p.train.activations == str(tmp_path / name / "activations")
        assert p.train.output == p.evaluate.run == p.analyse.run == str(tmp_path / name / "run")


def test_default_preset_is_a_topk_sae_measured_on_enough_heldout_tokens(tmp_path):
    p = presets.load_preset("default", SOURCES, tmp_path)
    assert (p.train.architecture, p.train.d_sae, p.train.k) == ("topk", 4096, 32)
    assert (
        p.train.aux_k_coefficient > 0
        and p.train.dead_feature_threshold < p.train.n_steps * p.train.batch_size
    )
    assert p.evaluate.n_tokens >= 50_000
    assert p.collect.autocast_bf16 == "auto"  # bfloat16 only where the CPU has it: emulated it is ~7x slower
    heldout_contexts = round(p.collect.n_tokens / p.collect.context_length * p.train.eval_fraction)
    assert heldout_contexts * (p.collect.context_length - 1) >= p.evaluate.n_tokens  # BOS left out


def test_spec_preset_is_the_original_quick_run(tmp_path):
    p = presets.load_preset("spec", SOURCES, tmp_path)
    assert (p.train.architecture, p.train.d_sae, p.train.n_steps, p.train.l1_coefficient) == (
        "relu",
        128,
        500,
        2.0,
    )
    assert p.collect.n_tokens == 50_000 and p.collect.autocast_bf16 is False
    assert presets.default_out("spec") == Path("artifacts/demo-spec")
    assert presets.default_out("default") == Path("artifacts/demo")


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(CliError, match=r"preset 'tiny': unknown; the presets are default, .*spec"):
        presets.preset_path("tiny")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("collect:\n  hook: blocks.1.hook_resid_pre\n", r"collect: hook: set by the demo"),
        ("train:\n  output: x\n", r"train: output: set by the demo"),
        ("train:\n  d_sae: 64\n  learning_rate: 1\n", r"demo_bad.yaml: train: learning_rate: unknown key"),
        ("evaluate:\n  n_tokens: 0\n", r"evaluate: n_tokens: .*greater than or equal to 1"),
        ("plot: {}\n", r"plot: unknown section"),
        ("train: 3\n", r"train: expected a mapping"),
    ],
)
def test_bad_preset_names_file_section_and_key(tmp_path, text, error):
    path = tmp_path / "demo_bad.yaml"
    path.write_text(text)
    with pytest.raises((ConfigError, CliError), match=error):
        presets.load_preset(str(path), SOURCES, tmp_path)


def test_demo_runs_a_preset_file_end_to_end(tmp_path, tiny_gpt2_dir, small_corpus, capsys, embedded_settings):
    preset = tmp_path / "demo_tiny.yaml"
    preset.write_text(
        "collect: {context_length: 32, n_tokens: 1024, shard_contexts: 8, batch_size: 4, device: cpu}\n"
        "train: {architecture: topk, d_sae: 32, k: 4, batch_size: 64, n_steps: 20, eval_fraction: 0.25, device: cpu}\n"
        "evaluate: {n_tokens: 200, ce_contexts: 2, device: cpu}\n"
        "analyse: {top_k: 3, device: cpu}\n"
    )
    out = tmp_path / "out"
    args = ["demo", "--preset", str(preset), "--model", str(tiny_gpt2_dir), "--corpus", str(small_corpus)]
    assert main([*args, "--hook", "blocks.2.hook_resid_pre", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"preset tiny ({preset})" in printed and "train a topk SAE, d_sae 32, 20 steps" in printed
    assert "at blocks.2.hook_resid_pre" in printed
    assert re.search(
        r"wall time \d+ s \(collect \d+ s, train \d+ s, evaluate \d+ s, analyse \d+ s, register \d+ s\)",
        printed,
    )
    result = json.loads((out / "run" / "eval.json").read_text())
    assert result["n_tokens"] == 200 and result["ce_contexts"] == 2 and result["sae"]["k"] == 4
    assert (out / "run" / "results").is_dir()
