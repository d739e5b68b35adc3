"""GraphQL domain ``sweeps``: ``submitSweep``, several SAEs trained on one activation stream, then each evaluated
(and analysed) as its own run.

The members' runs of a submitted sweep are read through ``Job.sweepRuns`` (``services.gateway.job_types``).
``services.gateway.jobs`` lists the field on the root Mutation, in the schema's order.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.auth import TokenRequired
from services.gateway.common import JSON, optional
from services.gateway.errors import BadInput
from services.gateway.job_types import Job, collected_dataset, submitted
from services.gateway.submission import submission_name, validated
from shared.config import AnalyseConfig, CollectConfig, EvaluateConfig
from shared.jobs import pipelines
from shared.sweep_config import SweepConfig


@strawberry.input(description="A sweep: several SAEs trained together on one activation stream.")
class SweepInput:
    name: str | None = None
    dataset_id: strawberry.ID | None = optional("Train on this collected dataset (or give `collect`).")
    collect: JSON | None = optional("CollectConfig keys: collect a dataset first (or give `datasetId`).")
    common: JSON | None = optional(
        "TrainConfig keys every SAE shares (batch_size, n_steps, seed, ... must be shared).",
    )
    saes: list[JSON] = strawberry.field(
        description="One object per SAE: TrainConfig keys (architecture, d_sae, k, l1_coefficient, ...) and an "
        "optional `name`."
    )
    evaluate: JSON | None = optional("EvaluateConfig keys for every run; defaults when omitted.")
    analyse: JSON | None = optional("AnalyseConfig keys for every run; no analysis when omitted.")


def _sweep_config(input: SweepInput, name: str) -> SweepConfig:
    common: Any = input.common if input.common is not None else {}
    if not isinstance(common, dict):
        raise BadInput("common: expected an object of TrainConfig keys", field="common")
    for key in ("activations", "output"):
        if key in common or any(isinstance(s, dict) and key in s for s in input.saes):
            raise BadInput(f"{key}: chosen by the server; leave it out", field=f"common.{key}")
    if not all(isinstance(s, dict) for s in input.saes):
        raise BadInput("saes: expected one object of TrainConfig keys per SAE", field="saes")
    evaluate = validated("evaluate", EvaluateConfig, input.evaluate)
    data = {"name": name or "sweep", "common": common, "saes": list(input.saes)}
    data |= {"evaluate": evaluate.model_dump(mode="json")}
    if input.analyse is not None:
        data["analyse"] = validated("analyse", AnalyseConfig, input.analyse).model_dump(mode="json")
    return validated("sweep", SweepConfig, data)  # type: ignore[return-value]


async def _submit_sweep(info: Info, input: SweepInput) -> Job | None:
    name = submission_name(input.name)
    if (input.dataset_id is None) == (input.collect is None):
        raise BadInput("give exactly one of datasetId and collect", field="datasetId")
    sweep = _sweep_config(input, name)
    if input.collect is not None:
        collect = validated("collect", CollectConfig, input.collect)
        if isinstance(collect, CollectConfig) and not isinstance(collect.hook, str):
            raise BadInput(pipelines.MULTI_HOOK_REFUSED, field="collect.hook")
        return await submitted(info, pipelines.submit_sweep, sweep, collect=collect)
    await collected_dataset(info, str(input.dataset_id))
    return await submitted(info, pipelines.submit_sweep, sweep, dataset_id=str(input.dataset_id))


submit_sweep = strawberry.mutation(
    resolver=_submit_sweep,
    permission_classes=[TokenRequired],
    description="Train several SAEs in one job on one activation stream (each batch read once, fed to all), "
    "then evaluate (and analyse) each run; returns the pipeline as a PIPELINE job (see sweepRuns).",
)
