"""Task ``saelab.import``: an SAE from a folder, the Hub or a release becomes the weights of a run.

Thin: read the source from the pipeline's import stage, ``shared.sae.imports.import_sae`` into the run's working
directory, point its cfg.json at the pipeline's dataset, upload the run, then complete the next (collect) stage
with the SAE's own model and hook (and context length / BOS unless the submitter chose them), so the collection,
evaluation and analysis that follow run exactly as for a trained SAE. A run already imported is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from services.collector.byo import FROM_SAE, collect_keys_for
from services.collector.celery_app import app
from shared.config import CollectConfig, validate_config
from shared.db.repositories.datasets import set_dataset_config
from shared.db.repositories.pipelines import get_pipeline, set_stage_config, stage_config
from shared.db.repositories.runs import mark_run_imported
from shared.db.session import session_scope
from shared.import_config import ImportConfig
from shared.jobs.celery_app import run_delivery
from shared.jobs.contracts import IMPORT
from shared.jobs.errors import PermanentError
from shared.jobs.lifecycle import JobContext
from shared.jobs.run_start import open_run
from shared.paths import PathRefused, data_roots, fence_model, local_source
from shared.sae.base import SAEConfig
from shared.sae.imports import ImportSAEError, ImportSource, import_sae
from shared.sae.io import read_config, set_activations_path, update_config
from shared.store import dataset_prefix, fetch_run, publish_run, run_prefix


def packaged_name(model: str, gguf_file: str | None) -> str | None:
    """``smollm2`` when the cfg's model is the packaged SmolLM2 GGUF file (as ``saelab demo`` runs record it)."""
    from shared.lm import ModelLoadError, packaged_smollm2

    if not model or model == "smollm2":
        return model or None
    try:
        packaged = packaged_smollm2().resolve()
        path = Path(model, gguf_file) if gguf_file else Path(model)
        return "smollm2" if path.expanduser().resolve() == packaged else None
    except (ModelLoadError, OSError, RuntimeError):
        return None


def run_import(ctx: JobContext) -> str:
    """Body of ``saelab.import``."""
    at_start = open_run(ctx, "import")
    run_id, store, dataset_id = at_start.run_id, at_start.store, at_start.dataset_id
    cfg = validate_config(ImportConfig, ctx.config, source=f"pipeline {ctx.pipeline_id} import stage")
    if at_start.ready and store.exists(f"{run_prefix(run_id)}/sae.safetensors"):
        # a resubmission (say after a failed collection): its own collect stage still needs the SAE's model/hook
        imported = read_config(fetch_run(store, run_id))
        with session_scope() as s:
            _complete_collect_stage(s, ctx.pipeline_id, dataset_id, imported, cfg.label)
        return "skipped: the SAE is already imported"
    ctx.stage("import", f"reading {cfg.label}")
    run_dir = store.workdir(run_prefix(run_id))
    source = ImportSource(
        location=local_source(cfg.source, ctx.settings, "source"),  # a fenced folder's @root/path reference
        release=cfg.release,
        sae_id=cfg.sae_id,
        revision=cfg.revision,
        norm_scaling_factor=cfg.norm_scaling_factor,
    )
    try:
        import_sae(source, run_dir, overwrite=True)
    except ImportSAEError as err:
        raise PermanentError(str(err)) from None
    sae = read_config(run_dir)
    try:  # the SAE's cfg names its model: a hub id, or a local folder / .gguf that must lie under the data roots
        named = packaged_name(sae.model_name, sae.model_gguf_file)
        model, gguf_file = fence_model(named or sae.model_name, None if named else sae.model_gguf_file,
                                       data_roots(ctx.settings))  # fmt: skip
    except PathRefused as err:
        raise PermanentError(
            f"{cfg.label}: the SAE's cfg.json names a model the server may not read: {err}"
        ) from None
    update_config(run_dir, model_name=model, model_gguf_file=gguf_file)
    sae = read_config(run_dir)
    collect_keys_for(sae, cfg.label)  # refuses an SAE that names no model or hook before anything is uploaded
    set_activations_path(run_dir, os.path.relpath(f"/{dataset_prefix(dataset_id)}", f"/{run_prefix('x')}"))
    ctx.stage("upload", "uploading the imported SAE")
    publish_run(store, run_id, run_dir)
    with session_scope() as s:
        _complete_collect_stage(s, ctx.pipeline_id, dataset_id, sae, cfg.label)
        info = {"architecture": sae.architecture, "d_in": sae.d_in, "d_sae": sae.d_sae, "k": sae.k,
                "model": sae.model_name, "hook": sae.hook_name, "normalize_activations": sae.normalize_activations,
                "source": cfg.label}  # fmt: skip
        mark_run_imported(s, run_id, sae.architecture, sae.d_sae, info)
    return (
        f"imported a {sae.architecture} SAE with {sae.d_sae} features for {sae.model_name} at {sae.hook_name}"
    )


def _complete_collect_stage(
    session: Session, pipeline_id: str | None, dataset_id: str, sae: SAEConfig, label: str
) -> None:
    """Fill the pipeline's collect stage (and its dataset row) with the SAE's model and hook; the submitter's keys
    (corpus, n_tokens, a context length of their own) stay as they chose them."""
    pipeline = get_pipeline(session, pipeline_id) if pipeline_id else None
    if pipeline is None or not any(st["kind"] == "collect" for st in pipeline.stages):
        return
    chosen = {k: v for k, v in stage_config(pipeline, "collect").items() if k not in FROM_SAE}
    collect = validate_config(
        CollectConfig, collect_keys_for(sae, label) | chosen, source=f"{label}: collect stage"
    )
    full = collect.model_dump(mode="json")
    set_stage_config(session, pipeline.id, "collect", full)
    set_dataset_config(session, dataset_id, full)


@app.task(name=IMPORT, bind=True)
def import_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.import``."""
    return run_delivery(self, IMPORT, payload, run_import)
