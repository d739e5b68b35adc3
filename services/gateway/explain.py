"""GraphQL domain ``explain``: the LLM explainer as a job, with its cost/time estimate first.

``explainEstimate`` says what a job would cost (LLM calls, prompt tokens, time) and whether an explainer endpoint is
configured (its model name; never its URL's credentials or key). ``explainFeatures`` (token required) queues the
``explain`` job on an analysed run: options are ``shared.explain.config.ExplainConfig`` keys, validated strictly
and bounded (at most ``MAX_FEATURES`` indices, bounded counts); progress is reported per feature on the job.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON
from strawberry.types import Info

from services.gateway.auth import TokenRequired, read_field
from services.gateway.common import ctx, loaders, require_run
from services.gateway.errors import BadInput
from services.gateway.job_types import Job, submitted
from services.gateway.submission import validated
from shared.config import AnalyseConfig
from shared.db.repositories.llm_explanations import live_features
from shared.explain.config import MAX_FEATURES, METHOD, ExplainConfig, estimate
from shared.jobs import pipelines
from shared.settings import Settings

MAX_SECONDS_PER_CALL = 600.0


@strawberry.type(description="What an explain job would cost, computed before anything calls the model.")
class ExplainEstimate:
    features: int = strawberry.field(description="Features it would explain (selected ones that fired).")
    llm_calls: int = strawberry.field(description="Chat-completion calls in all.")
    prompt_tokens: int = strawberry.field(
        description="Prompt tokens in all (estimated from the window width)."
    )
    max_completion_tokens: int = strawberry.field(description="Upper bound on generated tokens.")
    seconds: float = strawberry.field(description="Estimated wall time at secondsPerCall.")
    seconds_per_call: float = strawberry.field(description="The assumed time of one call.")
    method: str = strawberry.field(description="Method name the rows will carry.")
    model: str | None = strawberry.field(description="The configured explainer model; null when none is.")
    configured: bool = strawberry.field(
        description="Whether SAELAB_EXPLAINER_BASE_URL and SAELAB_EXPLAINER_MODEL are set on the server."
    )


def _configured(settings: Settings) -> bool:
    return bool(settings.explainer_base_url and settings.explainer_model)


def _count(session: Session, run_id: str, features: list[int] | None) -> int:
    return len(live_features(session, run_id, features))


async def _plan(info: Info, run_id: str, options: Any) -> tuple[ExplainConfig, int, int]:
    """The validated config, the features it selects that fired, and the run's window width."""
    cfg = validated("options", ExplainConfig, options)
    assert isinstance(cfg, ExplainConfig)
    run = await require_run(info, run_id)
    if run.analysed_at is None:
        raise BadInput(f"runId: run {run_id!r} is not analysed yet: analyse it first", field="runId")
    analysed = AnalyseConfig.model_validate(run.analyse_config or {})
    n = await loaders(info).query(_count, run_id, cfg.features)
    return cfg, n, analysed.window_left + 1 + analysed.window_right


@strawberry.type
class ExplainQueries:
    @read_field(
        f"Cost and time of explaining features of a run (options: ExplainConfig keys; features: at "
        f"most {MAX_FEATURES} indices, null = every feature that fired)."
    )
    async def explain_estimate(
        self, info: Info, run_id: strawberry.ID, options: JSON | None = None, seconds_per_call: float = 2.0
    ) -> ExplainEstimate | None:
        if not 0 < seconds_per_call <= MAX_SECONDS_PER_CALL:
            raise BadInput(
                f"secondsPerCall: between 0 and {MAX_SECONDS_PER_CALL:.0f} (got {seconds_per_call})",
                field="secondsPerCall",
            )
        cfg, n, width = await _plan(info, str(run_id), options)
        settings = ctx(info).state.shared
        return ExplainEstimate(
            **estimate(cfg, n, width, seconds_per_call).model_dump(),  # the shared estimate's six figures
            method=METHOD,
            model=settings.explainer_model or None,
            configured=_configured(settings),
        )


@strawberry.type
class ExplainMutations:
    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Explain features of an analysed run with the configured LLM and score each explanation by "
        "detection and fuzzing on held-out contexts (Delphi); returns the job (progress per feature). Ask "
        "explainEstimate first.",
    )
    async def explain_features(
        self, info: Info, run_id: strawberry.ID, options: JSON | None = None
    ) -> Job | None:
        cfg, n, _ = await _plan(info, str(run_id), options)
        if not _configured(ctx(info).state.shared):
            raise BadInput(
                "no LLM explainer is configured on the server: set SAELAB_EXPLAINER_BASE_URL and "
                "SAELAB_EXPLAINER_MODEL (and SAELAB_EXPLAINER_API_KEY if the endpoint needs one)",
                field="runId",
            )
        if n == 0:
            raise BadInput(
                "options.features: none of these features fired: nothing to explain", field="options"
            )
        return await submitted(info, pipelines.submit_explanation, str(run_id), cfg)
