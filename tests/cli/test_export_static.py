"""`saelab export-static` writes the built client + a run's data exactly as the live API serves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.configs import tiny_configs

from cli.main import main

MARKER = '<script id="saelab-static" type="application/json">null</script>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A stand-in for web/dist: the real client's index.html carries the same marker."""
    d = tmp_path / "dist"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text(f"<html><head>{MARKER}</head><body></body></html>")
    (d / "assets" / "app.js").write_text("console.log('client')")
    return d


def test_export_static_writes_every_feature(embedded_settings, tiny_gpt2_dir, small_corpus, dist, capsys):
    from shared.jobs import embedded

    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    sub = embedded.submit_pipeline(collect, train, analyse)
    jobs = embedded.wait_for_pipeline(sub.pipeline_id, timeout=300)
    embedded.stop_worker()
    assert all(j.status == "succeeded" for j in jobs), [j.error for j in jobs]

    out = embedded_settings / "site"
    assert main(["export-static", "--run", sub.run_id, "--out", str(out), "--dist", str(dist)]) == 0

    html = (out / "index.html").read_text()
    assert MARKER not in html and '"format": "saelab-static/1"' in html
    assert (out / "assets" / "app.js").is_file()
    run = json.loads((out / "data" / "run.json").read_text())
    features = json.loads((out / "data" / "features.json").read_text())
    assert run["id"] == sub.run_id and run["dSae"] == 64 and run["eval"]["explainedVariance"] is not None
    assert [f["index"] for f in features] == list(range(64))
    search = json.loads((out / "data" / "search-index.json").read_text())
    assert len(search) == 64
    alive = [f for f in features if f["density"] > 0]
    assert alive, "the tiny run should have live features"
    detail = json.loads((out / "data" / "features" / f"{alive[0]['index']}.json").read_text())
    assert detail["density"] == alive[0]["density"] and detail["topExamples"]
    ex = detail["topExamples"][0]
    assert (
        len(ex["tokens"]) == len(ex["activations"])
        and ex["activations"][ex["maxPosition"]] == ex["maxActivation"]
    )


def test_export_static_unknown_run_is_named(embedded_settings, dist, capsys):
    assert (
        main(["export-static", "--run", "nope", "--out", str(embedded_settings / "o"), "--dist", str(dist)])
        == 2
    )
    assert "run 'nope' not found" in capsys.readouterr().err
