"""GraphQL mutations of the ``jobs`` domain: submit a pipeline, a training run or an analysis; cancel a job.

Configs arrive as JSON objects with the snake_case keys of ``shared.config`` and are validated by the same strict
models as the CLI; a bad value is a BAD_INPUT error whose ``field`` names it (``train.k``). Paths are the server's
business: a config that sets one is refused. Submission goes through ``shared.pipelines`` (enqueue by name; the
embedded worker or Celery runs it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.auth import TokenRequired
from services.gateway.common import JSON, ctx, loaders
from services.gateway.errors import BadInput, NotFound, Unavailable
from services.gateway.jobs import Job, JobKind, load_job, require_job
from services.gateway.runs import require_run
from shared import pipelines
from shared.config import AnalyseConfig, CollectConfig, ConfigError, StrictModel, TrainConfig, validate_config
from shared.db import models as m

log = logging.getLogger(__name__)

SERVER_PATH_KEYS: dict[str, tuple[str, ...]] = {
    "collect": ("output",),
    "train": ("activations", "output"),
    "analyse": ("run",),
}
MAX_NAME_CHARS = 200


def validated(section: str, cls: type[StrictModel], value: Any) -> StrictModel:
    """Validate one config section; BAD_INPUT names ``section.key`` for the first bad key."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise BadInput(
            f"{section}: expected an object of config keys, got {type(value).__name__}", field=section
        )
    for key in SERVER_PATH_KEYS.get(section, ()):
        if key in value:
            raise BadInput(f"{section}.{key}: chosen by the server; leave it out", field=f"{section}.{key}")
    try:
        return validate_config(cls, value, source=section)
    except ConfigError as err:
        message = str(err)
        head = message.splitlines()[0].split(": ")
        raise BadInput(message, field=".".join(head[:2]) if len(head) > 2 else section) from None


def _name(name: str | None) -> str:
    text = " ".join((name or "").split())
    if len(text) > MAX_NAME_CHARS:
        raise BadInput(f"name: at most {MAX_NAME_CHARS} characters (got {len(text)})", field="name")
    return text


@strawberry.input
class PipelineInput:
    name: str | None = None
    collect: JSON = strawberry.field(
        description="CollectConfig keys (model, hook, corpus, n_tokens, ...); the output path is chosen by the server."
    )
    train: JSON = strawberry.field(
        description="TrainConfig keys (architecture, d_sae, l1_coefficient or k, ...)."
    )
    analyse: JSON | None = strawberry.field(
        default=None, description="AnalyseConfig keys; defaults when omitted."
    )
    evaluate: bool = strawberry.field(
        default=True, description="Evaluate the SAE (EV, L0, CE loss) after training."
    )


async def _submitted(info: Info, call: Any, *args: Any, **kwargs: Any) -> Job:
    """Run a ``shared.pipelines`` submission in a thread; return its pipeline as a PIPELINE job."""
    kwargs["settings"] = ctx(info).state.shared
    try:
        submission = await asyncio.to_thread(call, *args, **kwargs)
    except ConfigError as err:
        raise BadInput(str(err)) from None
    except RuntimeError as err:  # the transport refused: no in-process worker, broker down
        log.warning("submission could not be enqueued: %s", err)
        raise Unavailable(
            "The job was recorded but could not be queued: no worker or broker is reachable"
        ) from err
    return await require_job(info, submission.pipeline_id)


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Collect -> train -> evaluate -> analyse; returns the pipeline as a PIPELINE job.",
    )
    async def submit_pipeline(self, info: Info, input: PipelineInput) -> Job:
        name = _name(input.name)
        collect = validated("collect", CollectConfig, input.collect)
        if isinstance(collect, CollectConfig) and not isinstance(collect.hook, str):
            raise BadInput(pipelines.MULTI_HOOK_REFUSED, field="collect.hook")
        train = validated("train", TrainConfig, input.train)
        analyse = validated("analyse", AnalyseConfig, input.analyse)
        return await _submitted(
            info, pipelines.submit_pipeline, collect, train, analyse, evaluate=input.evaluate, name=name
        )

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="Train (evaluate, analyse) on a dataset."
    )
    async def submit_training(
        self,
        info: Info,
        dataset_id: strawberry.ID,
        config: JSON,
        name: str | None = None,
        analyse: JSON | None = None,
    ) -> Job:
        train = validated("train", TrainConfig, config)
        analysis = validated("analyse", AnalyseConfig, analyse)
        dataset = await loaders(info).datasets.load(str(dataset_id))
        if dataset is None:
            raise NotFound(f"dataset {str(dataset_id)!r} not found", datasetId=str(dataset_id))
        if dataset.status != m.ArtifactStatus.ready.value:
            raise BadInput(f"datasetId: dataset {str(dataset_id)!r} is not collected yet", field="datasetId")
        return await _submitted(
            info, pipelines.submit_training, str(dataset_id), train, analysis, name=_name(name)
        )

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="(Re-)analyse every feature of a run."
    )
    async def submit_analysis(self, info: Info, run_id: strawberry.ID, options: JSON | None = None) -> Job:
        analyse = validated("analyse", AnalyseConfig, options)
        run = await require_run(info, str(run_id))
        if run.status != m.ArtifactStatus.ready.value:
            raise BadInput(f"runId: run {str(run_id)!r} has no trained SAE yet", field="runId")
        return await _submitted(info, pipelines.submit_analysis, str(run_id), analyse)

    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Cancel a job or a whole pipeline: queued jobs at once, running ones at their next progress report.",
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        job = await require_job(info, str(id))
        shared = ctx(info).state.shared
        if job.kind == JobKind.PIPELINE:
            await asyncio.to_thread(pipelines.cancel_pipeline, str(id), shared)
        elif not job.status.terminal:
            await asyncio.to_thread(pipelines.cancel_job, str(id), shared)
        loaders(info).forget_job(str(id))
        fresh = await load_job(info, str(id))
        assert fresh is not None
        return fresh
