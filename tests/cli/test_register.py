"""`saelab register`: a run the CLI stages made gets the job system's ids, rows and store layout, idempotently."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.configs import tiny_configs
from support.fixtures import postgres_server, postgres_url, s3_server, use_settings  # noqa: F401 - fixtures

from cli.main import main

TABLES = ("datasets", "runs", "metrics", "features", "feature_examples", "feature_neighbours", "feature_logits",
          "token_features", "feature_labels")  # fmt: skip


def _sets(cfg: dict[str, Any]) -> list[str]:
    return [arg for key, value in cfg.items() for arg in ("--set", f"{key}={json.dumps(value)}")]


@pytest.fixture(scope="module")
def cli_run(
    tmp_path_factory: pytest.TempPathFactory, tiny_gpt2_dir: Path, small_corpus: Path
) -> dict[str, Any]:
    """collect -> train -> evaluate -> analyse through the CLI (as a user would), once for the module."""
    root = tmp_path_factory.mktemp("cli-run")
    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    acts, run = root / "acts", root / "my-run"
    assert main(["collect", "--output", str(acts), *_sets(collect | {"output": str(acts)})]) == 0
    assert main(["train", "--activations", str(acts), "--output", str(run), *_sets(train)]) == 0
    assert main(["evaluate", "--run", str(run), "--set", "device=cpu"]) == 0
    assert main(["analyse", "--run", str(run), *_sets(analyse)]) == 0
    return {"acts": acts, "run": run, "configs": (collect, train, analyse)}


def _rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables registration writes, as plain dicts (ids and timestamps included)."""
    from shared.db.models import Base
    from shared.db.session import session_scope

    out = {}
    with session_scope() as s:
        for name in TABLES:
            table = Base.metadata.tables[name]
            out[name] = sorted(
                (dict(r._mapping) for r in s.execute(select(table))), key=lambda r: json.dumps(r, default=str)
            )
    return out


def test_register_twice_gives_the_same_rows_and_the_job_system_finds_everything_done(
    embedded_settings, cli_run, capsys
):
    from shared.jobs import embedded
    from shared.jobs.pipelines import dataset_id_for, run_id_for
    from shared.store import get_store

    assert main(["register", str(cli_run["run"])]) == 0
    out = capsys.readouterr().out
    first = _rows()
    collect, train, analyse = cli_run["configs"]
    dataset_id = dataset_id_for(collect)
    run_id = run_id_for(dataset_id, train)
    assert f"registered run {run_id} (dataset {dataset_id}; 64 features, eval card, feature records)" in out
    assert f"http://127.0.0.1:8000/?run={run_id}" in out

    (run,) = first["runs"]
    assert (run["id"], run["dataset_id"], run["name"], run["status"]) == (
        run_id,
        dataset_id,
        "my-run",
        "ready",
    )
    assert run["steps_done"] == 60 and run["eval"]["explained_variance"] is not None
    assert run["summary"]["d_sae"] == 64 and run["analysed_at"] is not None
    assert [d["status"] for d in first["datasets"]] == ["ready"]
    assert sorted(f["feature_index"] for f in first["features"]) == list(range(64))
    steps = [json.loads(line)["step"] for line in (cli_run["run"] / "metrics.jsonl").read_text().splitlines()]
    assert sorted({m["step"] for m in first["metrics"]}) == sorted(set(steps))
    assert first["feature_examples"] and first["token_features"] and first["feature_logits"]

    assert main(["register", str(cli_run["run"])]) == 0
    assert "feature records (unchanged)" in capsys.readouterr().out
    assert _rows() == first  # same rows, same ids and timestamps, no duplicates

    store = get_store()
    assert store.has_dir(f"datasets/{dataset_id}") and store.has_dir(f"runs/{run_id}")
    assert store.has_dir(f"runs/{run_id}/results")
    shard = sorted(cli_run["acts"].glob("shard-*.h5"))[0]
    assert os.path.samefile(store.workdir(f"datasets/{dataset_id}") / shard.name, shard)  # linked, not copied
    stored_cfg = json.loads(store.get_bytes(f"runs/{run_id}/cfg.json"))
    assert stored_cfg["activations_path"] == f"../../datasets/{dataset_id}"  # as the train task leaves it

    # The same pipeline through the job system finds every stage already done: same ids, rows and store layout.
    sub = embedded.submit_pipeline(collect, train, analyse)
    jobs = embedded.wait_for_pipeline(sub.pipeline_id, timeout=120)
    assert (sub.dataset_id, sub.run_id) == (dataset_id, run_id)
    assert [(j.kind, j.status, j.message.split(":")[0]) for j in jobs] == [
        (kind, "succeeded", "skipped") for kind in ("collect", "train", "evaluate", "analyse")
    ]
    assert _rows()["features"] == first["features"]


def test_a_new_analysis_replaces_the_feature_rows(embedded_settings, cli_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(cli_run["run"], run)
    assert main(["register", str(run), "--activations", str(cli_run["acts"]), "--name", "mine"]) == 0
    before = _rows()
    assert (
        main(
            [
                "analyse",
                "--run",
                str(run),
                "--set",
                "top_k=2",
                "--set",
                "n_quantiles=0",
                "--set",
                "device=cpu",
            ]
        )
        == 0
    )
    assert main(["register", str(run), "--activations", str(cli_run["acts"])]) == 0
    after = _rows()
    assert len(after["features"]) == 64 and after["runs"][0]["name"] == "mine"
    tops = [e for e in after["feature_examples"] if e["kind"] == "top"]
    assert max(e["rank"] for e in tops) == 1 and len(tops) < len(before["feature_examples"])
    assert {e["kind"] for e in after["feature_examples"]} == {"top"}
    assert after["runs"][0]["analyse_config"]["top_k"] == 2
    assert after["datasets"] == before["datasets"] and after["metrics"] == before["metrics"]


def test_a_directory_that_is_not_a_run_is_named_with_the_missing_file(
    embedded_settings, cli_run, tmp_path, capsys
):
    run = tmp_path / "half"
    shutil.copytree(cli_run["run"], run)
    (run / "sae.safetensors").unlink()
    assert main(["register", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"{run / 'sae.safetensors'}: missing" in err and "not a finished run directory" in err

    assert main(["register", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_missing_or_wrong_activations_are_named(embedded_settings, cli_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(cli_run["run"], run)
    assert main(["register", str(run), "--activations", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "gone" / "meta.json") in err and "--activations" in err

    other = tmp_path / "other"
    shutil.copytree(cli_run["acts"], other)
    meta = json.loads((other / "meta.json").read_text())
    (other / "meta.json").write_text(json.dumps(meta | {"hook": "blocks.1.hook_resid_pre"}))
    assert main(["register", str(run), "--activations", str(other)]) == 2
    assert "holds blocks.1.hook_resid_pre" in capsys.readouterr().err
    assert _rows()["runs"] == []  # nothing half-registered


def test_saelab_up_says_what_to_run_until_a_run_is_registered(embedded_settings, cli_run):
    from cli.service_commands import no_runs_hint

    hint = no_runs_hint()
    assert hint is not None and "`make demo`" in hint and "`saelab register artifacts/runs/<name>`" in hint
    assert main(["register", str(cli_run["run"])]) == 0
    assert no_runs_hint() is None


def test_register_into_postgresql_and_s3_then_a_fresh_worker_fetches_the_run(
    cli_run, tmp_path, monkeypatch, request
):
    db_url, s3 = request.getfixturevalue("postgres_url"), request.getfixturevalue("s3_server")
    from shared.db.models import Feature, Run
    from shared.db.session import session_scope
    from shared.store import fetch_dataset, fetch_run, get_store

    use_settings(
        monkeypatch, database_url=db_url, broker_url="", s3_endpoint=s3.endpoint,
        s3_access_key=s3.access_key, s3_secret_key=s3.secret_key, s3_bucket="register",
        artifacts_dir=tmp_path / "registering",
    )  # fmt: skip
    try:
        assert main(["register", str(cli_run["run"])]) == 0
        store = get_store()
        run_id = next(k.split("/")[1] for k in store.keys("runs") if k.endswith("/sae.safetensors"))
        store.put_bytes(f"runs/{run_id}/stale.txt", b"left by an older registration")
        assert main(["register", str(cli_run["run"])]) == 0
        assert not store.exists(f"runs/{run_id}/stale.txt")  # the stored run is exactly the directory

        use_settings(monkeypatch, artifacts_dir=tmp_path / "fresh-worker")
        worker_store = get_store()
        with session_scope() as s:
            run = s.get(Run, run_id)
            assert run is not None and run.status == "ready" and run.eval is not None
            n_features = s.query(Feature).filter(Feature.run_id == run_id).count()
            dataset_id = run.dataset_id
        assert n_features == 64
        run_dir = fetch_run(worker_store, run_id)
        assert (run_dir / "sae.safetensors").read_bytes() == (cli_run["run"] / "sae.safetensors").read_bytes()
        data = fetch_dataset(worker_store, dataset_id)
        assert (
            run_dir / json.loads((run_dir / "cfg.json").read_text())["activations_path"]
        ).resolve() == data
    finally:
        use_settings(monkeypatch)
