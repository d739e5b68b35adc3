"""`saelab submit` in embedded mode runs the whole pipeline on this process and `saelab jobs` lists it."""

from __future__ import annotations

import yaml
from support.configs import tiny_configs

from cli.main import main


def test_submit_runs_pipeline_and_jobs_lists_it(embedded_settings, tiny_gpt2_dir, small_corpus, capsys):
    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    cfg = embedded_settings / "pipeline.yaml"
    cfg.write_text(
        yaml.safe_dump({"name": "cli-test", "collect": collect, "train": train, "analyse": analyse})
    )

    assert main(["submit", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "collect -> train -> evaluate -> analyse" in out
    for kind in ("collect", "train", "evaluate", "analyse"):
        assert any(line.split()[:2] == [kind, "succeeded"] for line in out.splitlines()), out

    assert main(["jobs", "--status", "succeeded"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[1] for line in listed) == ["analyse", "collect", "evaluate", "train"]


def test_submit_rejects_unknown_section(embedded_settings, capsys):
    cfg = embedded_settings / "pipeline.yaml"
    cfg.write_text("collect: {n_tokens: 10}\ntraining: {d_sae: 4}\n")
    assert main(["submit", "--config", str(cfg)]) == 2
    assert "training: unknown section" in capsys.readouterr().err


def test_submit_names_bad_stage_key(embedded_settings, capsys):
    cfg = embedded_settings / "pipeline.yaml"
    cfg.write_text("collect: {n_tokens: 10}\ntrain: {d_sae: 4, l2_coefficient: 1}\n")
    assert main(["submit", "--config", str(cfg)]) == 2
    assert "l2_coefficient" in capsys.readouterr().err


def test_submit_refuses_a_hook_list_and_says_what_to_do(embedded_settings, capsys):
    cfg = embedded_settings / "pipeline.yaml"
    cfg.write_text("collect: {hook: [blocks.0.hook_resid_pre, blocks.1.hook_mlp_out]}\ntrain: {d_sae: 4}\n")
    assert main(["submit", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "hook: a pipeline collects one hook" in err and "saelab collect --hook A --hook B" in err
    assert main(["jobs"]) == 0 and capsys.readouterr().out.strip() == "no jobs"
