"""Task ``saelab.analyse``: analyse every feature of a run, upload ``results/``, replace its rows in the database.

Thin: fetch the run and its activation set from the store, call ``services.analyser.analyse.analyse_run`` with a
progress sink, upload the results directory (with its manifest), then replace the run's feature rows in bulk
(re-running replaces, never duplicates). A run already analysed with the same config is skipped.
"""

from __future__ import annotations

from services.analyser.celery_app import app
from shared.config import AnalyseConfig, validate_config
from shared.db.repositories.runs import get_run
from shared.db.session import session_scope
from shared.jobs.celery_app import run_delivery
from shared.jobs.contracts import ANALYSE
from shared.jobs.lifecycle import JobContext
from shared.jobs.run_start import open_run
from shared.store import dataset_prefix, fetch_dataset, fetch_run, results_prefix, run_prefix


def run_analyse(ctx: JobContext) -> str:
    """Body of ``saelab.analyse``."""
    at_start = open_run(ctx, "analyse")
    run_id, store, dataset_id = at_start.run_id, at_start.store, at_start.dataset_id
    if at_start.done and store.has_dir(results_prefix(run_id)):
        return "skipped: the run is already analysed with this config"
    ctx.stage("download", "fetching the run and its activation set")
    fetch_dataset(store, dataset_id)
    run_dir = fetch_run(store, run_id)
    cfg = validate_config(
        AnalyseConfig, ctx.config | {"run": str(run_dir)}, source=f"pipeline {ctx.pipeline_id} analyse stage"
    )
    ctx.stage("analyse", "analysing every feature")
    from services.analyser.analyse import analyse_run
    from services.analyser.results import index_results

    results_dir = analyse_run(
        cfg, progress=ctx.progress, stored_as=(run_prefix(run_id), dataset_prefix(dataset_id))
    )
    ctx.stage("upload", "uploading the results")
    store.put_dir(results_prefix(run_id), results_dir)
    ctx.stage("index", "writing features to the database")
    with session_scope() as s:
        counts = index_results(s, run_id, results_dir)
        get_run(s, run_id).analyse_config = ctx.config
    return f"analysed {counts.features} features ({counts.examples} examples)"


@app.task(name=ANALYSE, bind=True)
def analyse_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.analyse``."""
    return run_delivery(self, ANALYSE, payload, run_analyse)
