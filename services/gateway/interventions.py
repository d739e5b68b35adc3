"""GraphQL domain ``interventions``: ``steer`` (generate with features steered, clamped, scaled or ablated, beside
the clean model) and ``attribute`` (which features push the model towards a token).

Both run on the run's cached ``LiveModel`` (``services.gateway.live``) in a worker thread, after the same rate limit
and prompt checks as ``analysePrompt``, with their own bounds: at most ``MAX_NEW_TOKENS`` new tokens,
``MAX_INTERVENTIONS`` interventions, finite values within ``MAX_VALUE``, features that exist and are not dead. The
intervention code itself (``shared.interventions``, torch) is imported only inside the worker thread's calls.
"""

from __future__ import annotations

import enum
import math

import strawberry
from strawberry.types import Info

from services.gateway.auth import read_field
from services.gateway.common import ctx, loaders, optional
from services.gateway.errors import BadInput, DeadFeature, UnknownFeature
from services.gateway.inference import MAX_TOP_K, labels_of, live_model, run_live

MAX_NEW_TOKENS = 64
MAX_INTERVENTIONS = 16
MAX_VALUE = 10_000.0
"""Largest |value| of an intervention (activations of real SAEs reach the hundreds on ordinary tokens)."""
MAX_TEMPERATURE = 2.0
MAX_CHOSEN_POSITIONS = 256


@strawberry.enum(description="What an intervention does to a feature's activation f.")
class InterventionKind(enum.Enum):
    STEER = "steer"
    """f' = f + value: adds value x the feature's decoder direction."""
    CLAMP = "clamp"
    """f' = value."""
    SCALE = "scale"
    """f' = value x f."""
    ABLATE = "ablate"
    """f' = 0."""


@strawberry.input(description="One change to one feature's activation, at every position unless limited.")
class InterventionInput:
    feature: int
    kind: InterventionKind = InterventionKind.STEER
    value: float = 0.0
    start: int | None = optional("Apply from this position on (0 = the prompt's first token).")
    positions: list[int] | None = optional(
        "Apply only at these positions (prompt tokens, then generated ones)."
    )


@strawberry.type
class TokenProbability:
    token_id: int
    token: str
    probability: float


@strawberry.type(description="One generated position: the token each side produced and its top predictions.")
class SteerStep:
    position: int
    baseline: TokenProbability | None = strawberry.field(description="Null once the clean text has ended.")
    steered: TokenProbability | None = strawberry.field(description="Null once the steered text has ended.")
    baseline_top: list[TokenProbability]
    steered_top: list[TokenProbability]
    kl: float = strawberry.field(description="KL(clean || steered) of the next-token distributions, in nats.")
    changed: bool = strawberry.field(description="The two sides produced different tokens here.")


@strawberry.type(description="A prompt continued by the clean model and by the model with the interventions.")
class SteerResult:
    run_id: strawberry.ID
    prompt_tokens: list[str]
    baseline_text: str
    steered_text: str
    steps: list[SteerStep]


@strawberry.type(description="A feature's contribution to the target logit (activation x gradient).")
class FeatureAttribution:
    index: int
    label: str | None
    activation: float
    attribution: float


@strawberry.type
class AttributedToken:
    position: int
    token: str
    positive: list[FeatureAttribution] = strawberry.field(
        description="Features pushing the target up, largest first."
    )
    negative: list[FeatureAttribution] = strawberry.field(
        description="Features pushing it down, largest first."
    )


@strawberry.type(description="The feature with the largest |attribution|, ablated at its position for real.")
class AblationCheck:
    position: int
    feature: FeatureAttribution
    predicted_change: float = strawberry.field(description="Minus its attribution: the first-order estimate.")
    actual_change: float = strawberry.field(description="The target logit's real change when it is ablated.")
    agrees: bool = strawberry.field(description="The two changes have the same sign.")


@strawberry.type(description="Which features push the model towards a token at one position.")
class AttributionResult:
    run_id: strawberry.ID
    position: int = strawberry.field(description="The position whose next-token logit is attributed.")
    target: str
    target_id: int
    logit: float
    probability: float
    tokens: list[AttributedToken]
    check: AblationCheck


def _check_intervention(i: int, iv: InterventionInput, d_sae: int, limit: int) -> None:
    field = f"interventions[{i}]"
    if not 0 <= iv.feature < d_sae:
        raise UnknownFeature(
            f"{field}.feature: feature {iv.feature} does not exist (the SAE has {d_sae} features)",
            iv.feature,
            field,
        )
    if not math.isfinite(iv.value) or abs(iv.value) > MAX_VALUE:
        raise BadInput(
            f"{field}.value: must be a finite number within +-{MAX_VALUE:g} (got {iv.value})", field=field
        )
    if iv.start is not None and iv.positions is not None:
        raise BadInput(f"{field}: give start or positions, not both", field=field)
    chosen = iv.positions or []
    if iv.positions is not None and not 1 <= len(chosen) <= MAX_CHOSEN_POSITIONS:
        raise BadInput(f"{field}.positions: 1 to {MAX_CHOSEN_POSITIONS} positions", field=field)
    if any(not 0 <= p < limit for p in [*chosen, *([iv.start] if iv.start is not None else [])]):
        raise BadInput(f"{field}: positions must be between 0 and {limit - 1}", field=field)


async def _check_alive(info: Info, run_id: str, interventions: list[InterventionInput]) -> None:
    """DEAD_FEATURE for a feature the run's analysis found dead (runs not analysed yet have no rows: allowed)."""
    keys = [(run_id, iv.feature) for iv in interventions]
    rows = await loaders(info).features.load_many(keys)
    for i, (iv, row) in enumerate(zip(interventions, rows, strict=True)):
        if row is not None and row.dead:
            raise DeadFeature(
                f"interventions[{i}].feature: feature {iv.feature} is dead (it never fired in the analysis)",
                iv.feature, f"interventions[{i}]",
            )  # fmt: skip


def _to_library(interventions: list[InterventionInput]) -> list[object]:
    from shared.interventions import Intervention, Positions

    out: list[object] = []
    for iv in interventions:
        if iv.positions is not None:
            where = Positions.at(*iv.positions)
        else:
            where = Positions.starting(iv.start) if iv.start is not None else Positions.all()
        out.append(Intervention(iv.feature, iv.kind.value, float(iv.value), where))
    return out


def _token(t: object) -> TokenProbability:
    return TokenProbability(token_id=t.token_id, token=t.token, probability=t.prob)  # type: ignore[attr-defined]


@strawberry.type
class InterventionQueries:
    @read_field(
        "Continue a prompt with the clean model and with the interventions applied, side by side "
        "(greedy at temperature 0, else sampled with the seed; both sides share each step's random draw).",
    )
    async def steer(
        self,
        info: Info,
        run_id: strawberry.ID,
        prompt: str,
        interventions: list[InterventionInput],
        max_new_tokens: int = 16,
        temperature: float = 0.0,
        seed: int = 0,
        top_k: int = 5,
    ) -> SteerResult | None:
        if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
            raise BadInput(f"maxNewTokens: must be between 1 and {MAX_NEW_TOKENS} (got {max_new_tokens})",
                           field="maxNewTokens")  # fmt: skip
        if len(interventions) > MAX_INTERVENTIONS:
            raise BadInput(f"interventions: at most {MAX_INTERVENTIONS} (got {len(interventions)})",
                           field="interventions")  # fmt: skip
        if not (math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE):
            raise BadInput(f"temperature: must be between 0 and {MAX_TEMPERATURE:g} (got {temperature})",
                           field="temperature")  # fmt: skip
        if seed < 0:
            raise BadInput(f"seed: must be >= 0 (got {seed})", field="seed")
        if not 1 <= top_k <= MAX_TOP_K:
            raise BadInput(f"topK: must be between 1 and {MAX_TOP_K} (got {top_k})", field="topK")
        model = await live_model(info, str(run_id), prompt, "prompt")
        max_tokens = ctx(info).state.settings.max_prompt_tokens
        for i, iv in enumerate(interventions):
            _check_intervention(i, iv, model.d_sae, max_tokens + max_new_tokens)
        await _check_alive(info, str(run_id), interventions)
        out = await run_live(
            info,
            str(run_id),
            model.steer,
            prompt,
            _to_library(interventions),
            max_new_tokens,
            temperature,
            seed,
            top_k,
            max_tokens,
        )
        steps = [
            SteerStep(
                position=s.position,
                baseline=_token(s.baseline) if s.baseline else None,
                steered=_token(s.steered) if s.steered else None,
                baseline_top=[_token(t) for t in s.baseline_top],
                steered_top=[_token(t) for t in s.steered_top],
                kl=s.kl,
                changed=(s.baseline.token_id if s.baseline else None)
                != (s.steered.token_id if s.steered else None),
            )
            for s in out.steps
        ]
        return SteerResult(run_id=run_id, prompt_tokens=out.prompt_tokens, baseline_text=out.baseline_text,
                           steered_text=out.steered_text, steps=steps)  # fmt: skip

    @read_field(
        "Attribute the logit of target (one token's text; default the model's top prediction) at "
        "position (default the last token) to every feature at every position up to it: activation x gradient.",
    )
    async def attribute(
        self,
        info: Info,
        run_id: strawberry.ID,
        prompt: str,
        target: str | None = None,
        position: int | None = None,
        top_k: int = 5,
    ) -> AttributionResult | None:
        if not 1 <= top_k <= MAX_TOP_K:
            raise BadInput(f"topK: must be between 1 and {MAX_TOP_K} (got {top_k})", field="topK")
        if target is not None and not target:
            raise BadInput("target: empty; name one token or leave it out", field="target")
        model = await live_model(info, str(run_id), prompt, "prompt")
        max_tokens = ctx(info).state.settings.max_prompt_tokens
        out = await run_live(info, str(run_id), model.attribute, prompt, target, position, top_k, max_tokens)
        rows = [*out.positive, *out.negative]
        labels = await labels_of(
            info, str(run_id), {a.feature for row in rows for a in row} | {out.check_feature}
        )

        def scored(a: object) -> FeatureAttribution:
            return FeatureAttribution(index=a.feature, label=labels.get(a.feature),  # type: ignore[attr-defined]
                                      activation=a.activation, attribution=a.attribution)  # type: ignore[attr-defined]  # fmt: skip

        checked = FeatureAttribution(
            index=out.check_feature, label=labels.get(out.check_feature),
            activation=out.check_activation, attribution=-out.predicted_change,
        )  # fmt: skip
        return AttributionResult(
            run_id=run_id, position=out.position, target=out.target, target_id=out.target_id, logit=out.logit,
            probability=out.prob,
            tokens=[
                AttributedToken(position=p, token=out.tokens[p], positive=[scored(a) for a in out.positive[p]],
                                negative=[scored(a) for a in out.negative[p]])
                for p in range(out.position + 1)
            ],
            check=AblationCheck(position=out.check_position, feature=checked, predicted_change=out.predicted_change,
                                actual_change=out.actual_change, agrees=out.check_agrees),
        )  # fmt: skip
