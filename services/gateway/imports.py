"""GraphQL domain ``imports``: ``importSae``, an SAE brought in from a server folder, a Hub id or a SAELens release.

The mutation validates the import source (fenced like every server path) and the collect / evaluate / analyse
sections, then submits an import pipeline (import -> collect -> evaluate -> analyse) through
``shared.jobs.pipelines``. ``services.gateway.jobs`` lists the field on the root Mutation, in the schema's order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.auth import TokenRequired
from services.gateway.common import JSON, ctx, optional
from services.gateway.job_types import Job, submitted
from services.gateway.submission import (
    evaluate_choice,
    fenced_corpus,
    import_source,
    submission_name,
    validated,
)
from shared.config import AnalyseConfig, CollectConfig
from shared.import_config import ImportConfig
from shared.jobs import pipelines


@strawberry.input
class ImportSaeInput:
    source: str | None = optional(
        "An SAE folder on the server (an absolute path under a configured data root: SAELens layout, "
        "Gemma Scope params.npz or saelab's own) or a Hugging Face Hub id org/name[:subfolder].",
    )
    release: str | None = optional("A SAELens release name (with saeId), instead of source.")
    sae_id: str | None = optional("The SAE id within release.")
    revision: str | None = optional("Hub branch, tag or commit.")
    name: str | None = None
    collect: JSON | None = optional(
        "CollectConfig keys for the activations collected for the SAE (corpus, n_tokens, "
        "context_length, ...); model, hook and output come from the SAE and the server.",
    )
    analyse: JSON | None = optional("AnalyseConfig keys; defaults when omitted.")
    evaluate: JSON = strawberry.field(
        default=True,
        description="Evaluate the SAE (EV, L0, CE loss recovered) on the collected corpus: true, false or "
        "EvaluateConfig keys.",
    )


async def _import_sae(info: Info, input: ImportSaeInput) -> Job | None:
    settings = ctx(info).state.shared
    source = (
        await asyncio.to_thread(import_source, "source", input.source, settings) if input.source else None
    )
    spec = {
        "source": source,
        "release": input.release,
        "sae_id": input.sae_id,
        "revision": input.revision,
    }
    imp = validated("import", ImportConfig, {k: v for k, v in spec.items() if v is not None})
    collect: dict[str, Any] = dict(input.collect) if isinstance(input.collect, dict) else {}
    validated("import.collect", CollectConfig, input.collect)
    if "corpus" in collect:
        collect["corpus"] = await asyncio.to_thread(fenced_corpus, str(collect["corpus"]), settings)
    analyse = validated("analyse", AnalyseConfig, input.analyse)
    evaluate = evaluate_choice(input.evaluate)
    return await submitted(
        info,
        pipelines.submit_import,
        imp,
        collect,
        analyse,
        evaluate,
        name=submission_name(input.name),
    )


import_sae = strawberry.mutation(
    resolver=_import_sae,
    permission_classes=[TokenRequired],
    description="Import an SAE (server folder, Hub id or SAELens release), collect activations for its model "
    "and hook, evaluate and analyse it; returns the pipeline as a PIPELINE job.",
)
