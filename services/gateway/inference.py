"""GraphQL domain ``inference``: the prompt analyser (``analysePrompt``) and one feature's trace (``featureActivations``).

Both run the run's LM up to the hooked layer and its SAE on the prompt (``services.gateway.live``), in a worker
thread, after the per-client rate limit and the prompt-length limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from services.gateway.auth import read_field
from services.gateway.common import ctx, loaders, require_run
from services.gateway.errors import BadInput, Corrupt
from services.gateway.limits import check_unicode
from services.gateway.live import LiveModel
from shared.db import models as m
from shared.db.repositories.labels import labels_of_run

T = TypeVar("T")

MAX_TOP_K = 50
MAX_PROMPT_CHARS_PER_TOKEN = 64
"""Texts longer than this many characters per allowed token are refused before tokenising."""


@strawberry.type(description="A feature active on one token, with its activation there.")
class FeatureActivation:
    index: int
    label: str | None
    activation: float


@strawberry.type
class PromptToken:
    position: int
    token: str
    l0: int = strawberry.field(description="Number of features active on this token.")
    max_activation: float = strawberry.field(description="Largest feature activation on this token.")
    features: list[FeatureActivation] = strawberry.field(
        description="Top-k features on this token, highest first."
    )


@strawberry.type
class PromptAnalysis:
    run_id: strawberry.ID
    tokens: list[PromptToken]


@strawberry.type(description="One feature's activation on every token of a text.")
class FeatureTrace:
    run_id: strawberry.ID
    index: int
    tokens: list[str]
    activations: list[float]
    max_activation: float


async def live_model(info: Info, run_id: str, text: str, name: str = "text") -> LiveModel:
    """Rate-limit the client, check the run is trained, and get its (cached) LM + SAE; ``name`` is the prompt
    argument's name in errors."""
    context = ctx(info)
    settings = context.state.settings
    context.state.limiter.check(context.client)
    check_unicode(text, name)
    if len(text) > settings.max_prompt_tokens * MAX_PROMPT_CHARS_PER_TOKEN:
        raise BadInput(f"{name}: the prompt is longer than {settings.max_prompt_tokens} tokens", field=name)
    run = await require_run(info, run_id)
    if run.status != m.ArtifactStatus.ready.value:
        raise BadInput(f"runId: run {run_id!r} has no trained SAE yet (status {run.status})", field="runId")
    loaded = context.state.models.loaded(run_id)  # no thread hop for a model already in memory
    return loaded if loaded is not None else await asyncio.to_thread(context.state.models.get, run_id)


async def run_live(info: Info, run_id: str, call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` on a worker thread; a model that answers with non-finite numbers leaves the cache."""
    try:
        return await asyncio.to_thread(call, *args)
    except Corrupt:
        ctx(info).state.models.evict(run_id)
        raise


async def labels_of(info: Info, run_id: str, indices: set[int]) -> dict[int, str | None]:
    """Labels of these features: from the run's cached labels (response cache on: one query per run and TTL,
    cleared by relabels), else one query for just these indices."""
    if not indices:
        return {}
    memos = ctx(info).state.memos
    if not memos.enabled:
        return await loaders(info).query(labels_of_run, run_id, sorted(indices))
    key = ("labels", run_id)
    labels: dict[int, str | None] | None = memos.get(key)
    if labels is None:
        labels = await loaders(info).query(labels_of_run, run_id)
        memos.put(key, labels)
    return labels


@strawberry.type
class InferenceQueries:
    @read_field("Run a prompt through the LM and SAE: every token with its top-k features.")
    async def analyse_prompt(
        self, info: Info, run_id: strawberry.ID, text: str, top_k: int = 5
    ) -> PromptAnalysis | None:
        if not 1 <= top_k <= MAX_TOP_K:
            raise BadInput(f"topK: must be between 1 and {MAX_TOP_K} (got {top_k})", field="topK")
        model = await live_model(info, str(run_id), text)
        max_tokens = ctx(info).state.settings.max_prompt_tokens
        top = await run_live(info, str(run_id), model.top_features, text, top_k, max_tokens)
        labels = await labels_of(info, str(run_id), {i for row in top.indices for i in row})
        tokens = [
            PromptToken(
                position=pos,
                token=token,
                l0=top.l0[pos],
                max_activation=top.max_activation[pos],
                features=[
                    FeatureActivation(index=i, label=labels.get(i), activation=v)
                    for i, v in zip(top.indices[pos], top.values[pos], strict=True)
                ],
            )
            for pos, token in enumerate(top.tokens)
        ]
        return PromptAnalysis(run_id=run_id, tokens=tokens)

    @read_field("One feature's activation on every token of text.")
    async def feature_activations(
        self, info: Info, run_id: strawberry.ID, index: int, text: str
    ) -> FeatureTrace | None:
        model = await live_model(info, str(run_id), text)
        max_tokens = ctx(info).state.settings.max_prompt_tokens
        tokens, acts = await run_live(info, str(run_id), model.feature_trace, text, index, max_tokens)
        return FeatureTrace(
            run_id=run_id, index=index, tokens=tokens, activations=acts, max_activation=max(acts, default=0.0)
        )
