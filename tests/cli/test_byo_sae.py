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


def imported_run(tmp_path: Path, model: Path) -> Path:
    """A SAELens folder for ``model`` imported with ``saelab import`` into ``tmp_path/run``."""
    src = saelens_folder(tmp_path / "src", model)
    run = tmp_path / "run"
    assert main(["import", str(src), "--out", str(run)]) == 0
    return run


def test_imported_sae_is_collected_for_analysed_and_evaluated(tmp_path, tiny_gpt2_dir, small_corpus, capsys):
    run = imported_run(tmp_path, tiny_gpt2_dir)

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
    run = imported_run(tmp_path, tiny_gpt2_dir)
    assert main(["analyse", "--run", str(run), "--n-tokens", "64"]) == 2
    assert "--n-tokens: goes with --corpus" in capsys.readouterr().err
    from services.collector.byo import collect_for_run
    from services.collector.collect import CollectError

    with pytest.raises(CollectError, match="hook: set by the SAE"):
        collect_for_run(run, {"corpus": str(small_corpus), "hook": "blocks.1.hook_resid_pre"})


@pytest.fixture
def embedded_with_roots(tmp_path, monkeypatch, tiny_gpt2_dir):
    """Embedded mode (SQLite, local artifacts) whose data roots hold the tiny GPT-2 the SAE names."""
    from support.fixtures import use_embedded, use_settings

    from shared.db.prestart import upgrade
    from shared.jobs.embedded import stop_worker

    url = f"sqlite:///{tmp_path / 'saelab.db'}"
    use_embedded(monkeypatch, tmp_path, data_roots=str(tiny_gpt2_dir))
    upgrade(url)
    yield tmp_path
    stop_worker()
    use_settings(monkeypatch, data_roots=None)


def test_import_analyse_goes_through_the_job_system_into_the_database(
    embedded_with_roots, tiny_gpt2_dir, small_corpus, capsys
):
    from support.reads import list_features

    from shared.db.repositories.runs import get_run
    from shared.db.session import session_scope

    src = saelens_folder(embedded_with_roots / "src", tiny_gpt2_dir)
    args = [
        "import",
        str(src),
        "--analyse",
        "--corpus",
        str(small_corpus),
        "--n-tokens",
        "640",
        "--name",
        "mine",
    ]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "import -> collect -> evaluate -> analyse" in out
    run_id = out.split("(run ")[1].split(")")[0]
    assert f"?run={run_id}" in out
    with session_scope() as s:
        run = get_run(s, run_id)
        assert (run.name, run.architecture, run.d_sae, run.status) == ("mine", "jumprelu", 48, "ready")
        assert run.eval is not None and run.eval["heldout_contexts"] == 20
        assert run.analysed_at is not None and run.summary["hook_name"] == HOOK
        assert run.config["sae"]["model"] == f"@{tiny_gpt2_dir.name}"
        rows, total = list_features(s, run_id, limit=100)
        assert total == len(rows) == 48


def test_import_analyse_refuses_a_model_outside_the_data_roots(
    embedded_with_roots, tiny_gpt2_dir, small_corpus, monkeypatch, capsys
):
    from support.fixtures import use_settings

    (embedded_with_roots / "empty-root").mkdir()
    use_settings(monkeypatch, data_roots=str(embedded_with_roots / "empty-root"))
    src = saelens_folder(embedded_with_roots / "src", tiny_gpt2_dir)
    assert main(["import", str(src), "--analyse", "--corpus", str(small_corpus), "--n-tokens", "64"]) == 2
    err = capsys.readouterr().err
    assert "import failed" in err and "names a model the server may not read" in err, err


def test_a_resubmitted_import_whose_sae_is_in_already_collects_for_its_model(
    embedded_with_roots, tiny_gpt2_dir, small_corpus, capsys
):
    from shared.db.repositories.jobs import list_jobs
    from shared.db.session import session_scope

    src = saelens_folder(embedded_with_roots / "src", tiny_gpt2_dir)
    corpus = embedded_with_roots / "later.txt"  # missing at first: the collection fails after the import
    args = ["import", str(src), "--analyse", "--corpus", str(corpus), "--n-tokens", "640"]
    assert main(args) == 2
    assert "collect failed" in capsys.readouterr().err
    corpus.write_text(small_corpus.read_text())
    assert main(args) == 0, (
        capsys.readouterr().err
    )  # same ids: the import stage skips, collect still gets the hook
    with session_scope() as s:
        imports = list_jobs(s, kind="import")
        assert [j.message for j in imports][:1] == ["skipped: the SAE is already imported"]
        assert {j.status for j in list_jobs(s, kind="analyse")} == {"succeeded"}
