"""The explain job's config and its cost/time estimate (computed before anything calls the model).

Per feature the job makes one explanation call, then detection calls (``n_test`` activating + ``n_test``
non-activating held-out contexts, ``per_prompt`` to a call) and fuzzing calls (the ``n_test`` activating contexts
highlighted correctly, and again with as many tokens highlighted at random). ``estimate`` counts those calls and
the prompt tokens they carry (from the run's example-window width) and prices time per call at an assumed
``seconds_per_call`` (a hosted endpoint answers a short call in about that; a local CPU model is slower: pass yours).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.config import Device, Seed, StrictModel

MAX_FEATURES = 10_000
"""Most features one job may explain (select, or run several jobs)."""
METHOD = "llm-delphi"
"""Method name stored on the rows this explainer writes."""

# Prompt overheads in tokens: system text + worked example, measured on the GPT-2 tokenizer and rounded up.
_EXPLAIN_OVERHEAD = 260
_CLASSIFY_OVERHEAD = 200
_TOKENS_PER_TOKEN = 1.3
"""A shown token costs about this many prompt tokens (markers, activation lists, another tokenizer)."""


class ExplainConfig(StrictModel):
    """Explain features of an analysed run with an LLM and score each explanation (Delphi's method)."""

    features: list[int] | None = Field(None, max_length=MAX_FEATURES)
    """Feature indices to explain; None = every feature that fired (dead features have nothing to explain)."""
    n_explain: int = Field(10, ge=1, le=40)
    """Top-activating examples (from contexts not held out) shown to the explainer."""
    n_test: int = Field(10, ge=1, le=100)
    """Held-out activating contexts per score; detection adds as many non-activating ones."""
    per_prompt: int = Field(5, ge=1, le=20)
    """Examples per detection or fuzzing call (Delphi's ``n_examples_shown``)."""
    threshold: float = Field(0.3, gt=0, lt=1)
    """Tokens at or above this fraction of an example's top activation are marked (Delphi: 0.3)."""
    explain_max_tokens: int = Field(200, ge=8, le=4096)
    """Most tokens the explainer may write."""
    score_max_tokens: int = Field(40, ge=8, le=1024)
    """Most tokens a detection or fuzzing answer may have."""
    scan_contexts: int = Field(256, ge=8, le=100_000)
    """Held-out contexts scanned for windows on which a feature does not fire (detection's negatives)."""
    seed: Seed = 0
    """Seed of the example order, the negatives' choice and fuzzing's random highlights."""
    device: Device = "auto"
    """Where the SAE encodes the scanned contexts."""

    @field_validator("features")
    @classmethod
    def _unique(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("give at least one feature index, or null for every feature")
        if min(value) < 0:
            raise ValueError(f"feature indices are >= 0 (got {min(value)})")
        return sorted(set(value))


class ExplainEstimate(BaseModel):
    """What an explain job will cost before it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: int
    """Features it will explain."""
    llm_calls: int
    """Chat-completion calls in all."""
    prompt_tokens: int
    """Prompt tokens in all (estimated from the window width)."""
    max_completion_tokens: int
    """Upper bound on generated tokens (every call writing its maximum)."""
    seconds: float
    """Estimated wall time at ``seconds_per_call``."""
    seconds_per_call: float
    """The assumed time of one call."""


def calls_per_feature(cfg: ExplainConfig) -> tuple[int, int, int]:
    """(explain, detection, fuzzing) calls for one feature."""
    batches = math.ceil(2 * cfg.n_test / cfg.per_prompt)
    return 1, batches, batches


def estimate(
    cfg: ExplainConfig, n_features: int, window_tokens: int, seconds_per_call: float = 2.0
) -> ExplainEstimate:
    """Calls, prompt tokens and time of explaining ``n_features`` features whose windows are ``window_tokens`` long."""
    explain, detect, fuzz = calls_per_feature(cfg)
    shown = window_tokens * _TOKENS_PER_TOKEN
    prompt = (
        _EXPLAIN_OVERHEAD
        + cfg.n_explain * shown * 2  # each example and its activation list
        + (detect + fuzz) * _CLASSIFY_OVERHEAD
        + 4 * cfg.n_test * shown  # every test context is shown twice, in each of the two scores
    )
    calls = n_features * (explain + detect + fuzz)
    completion = n_features * (cfg.explain_max_tokens + (detect + fuzz) * cfg.score_max_tokens)
    return ExplainEstimate(
        features=n_features,
        llm_calls=calls,
        prompt_tokens=math.ceil(n_features * prompt),
        max_completion_tokens=completion,
        seconds=round(calls * seconds_per_call, 1),
        seconds_per_call=seconds_per_call,
    )
