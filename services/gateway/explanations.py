"""GraphQL domain ``explanations``: a feature's explanations with their method, model, named scores and sample; users
add and edit their own (token required). ``Feature.explanations`` reads them through the request's DataLoader."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from services.gateway.auth import TokenRequired
from services.gateway.common import ctx, finite, loaders
from services.gateway.errors import BadInput, NotFound
from shared.db.repositories.common import NotFound as RowNotFound
from shared.db.repositories.explanations import ExplanationRow, add_explanation, edit_explanation
from shared.explanations import MIN_HELDOUT_FIRINGS, SCORE_HELP


@strawberry.type(
    description="One named score of an explanation, with its sample and 95 % confidence interval."
)
class ExplanationScore:
    name: str = strawberry.field(description="F1 | precision | recall (or a method's own, e.g. detection).")
    value: float | None = strawberry.field(
        description="In [0, 1]; null when the sample is too small (see reason)."
    )
    ci_low: float | None = strawberry.field(description="Lower end of the 95 % confidence interval.")
    ci_high: float | None = strawberry.field(description="Upper end of the 95 % confidence interval.")
    n: int = strawberry.field(description="Size of the sample behind the score, in `unit`.")
    unit: str = strawberry.field(description="What `n` counts, e.g. 'held-out firings'.")
    reason: str | None = strawberry.field(description="Why there is no value, else null.")
    help: str = strawberry.field(description="What the score measures (for tooltips and legends).")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExplanationScore:
        name = str(d["name"])
        return cls(
            name=name,
            value=finite(d.get("value")),
            ci_low=finite(d.get("ci_low")),
            ci_high=finite(d.get("ci_high")),
            n=int(d.get("n", 0)),
            unit=str(d.get("unit", "")),
            reason=d.get("reason"),
            help=SCORE_HELP.get(name, name),
        )


@strawberry.type(
    description="An explanation of a feature: what made it, with which model, and how well it scores."
)
class Explanation:
    id: strawberry.ID
    text: str
    description: str | None = strawberry.field(
        description="The rule in full (tokens, context, what it promotes)."
    )
    method: str = strawberry.field(
        description="How it was made: 'offline token-list labeller', 'human', or an explainer's method name."
    )
    model: str | None = strawberry.field(
        description="The model that wrote it; null for the offline labeller and people."
    )
    author: str = strawberry.field(
        description="'analyser' (replaced by re-analysis) or 'user' (kept, editable)."
    )
    editable: bool = strawberry.field(description="Whether editExplanation may change it.")
    scores: list[ExplanationScore]
    sample_size: int | None = strawberry.field(
        description="Held-out sample behind the scores (see sampleUnit)."
    )
    sample_unit: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ExplanationRow) -> Explanation:
        return cls(
            id=strawberry.ID(str(row.id)),
            text=row.text,
            description=row.description,
            method=row.method,
            model=row.model,
            author=row.author,
            editable=row.author == "user",
            scores=[ExplanationScore.from_dict(s) for s in row.scores],
            sample_size=row.sample_size,
            sample_unit=row.sample_unit,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


async def explanations_of(info: Info, run_id: str, index: int) -> list[Explanation]:
    """A feature's explanations through the request's loader, oldest first."""
    rows = await loaders(info).explanations.load((run_id, index))
    return [Explanation.from_row(r) for r in rows]


@strawberry.type
class ExplanationInfo:
    min_heldout_firings: int = strawberry.field(
        description="Held-out firings below which a token-rule score has no value."
    )


def _parse_id(raw: strawberry.ID) -> int:
    if not str(raw).isdigit():
        raise BadInput(f"id: not an explanation id: {raw!r}", field="id")
    return int(raw)


def _write(fn: Any, *args: Any) -> Any:
    """Run a repository write, turning its errors into client errors."""
    try:
        return fn(*args)
    except RowNotFound as err:
        raise NotFound(str(err)) from err
    except PermissionError as err:
        raise BadInput(str(err), field="id") from err
    except ValueError as err:
        field = str(err).partition(":")[0]
        raise BadInput(str(err), field=field) from err


def _add(session: Session, run_id: str, index: int, text: str, description: str | None) -> ExplanationRow:
    row = _write(add_explanation, session, run_id, index, text, description)
    session.commit()
    return row


def _edit(session: Session, explanation_id: int, text: str, description: str | None) -> ExplanationRow:
    row = _write(edit_explanation, session, explanation_id, text, description)
    session.commit()
    return row


@strawberry.type
class ExplanationQueries:
    @strawberry.field(description="Constants behind the explanation scores (what the legends quote).")
    def explanation_info(self) -> ExplanationInfo | None:
        return ExplanationInfo(min_heldout_firings=MIN_HELDOUT_FIRINGS)


@strawberry.type
class ExplanationMutations:
    @strawberry.mutation(
        permission_classes=[TokenRequired], description="Add your own explanation to a feature."
    )
    async def add_explanation(
        self, info: Info, run_id: strawberry.ID, index: int, text: str, description: str | None = None
    ) -> Explanation | None:
        row = await loaders(info).query(_add, str(run_id), index, text, description)
        ctx(info).state.analysis_changed()
        return Explanation.from_row(row)

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="Change the text of an explanation a user wrote."
    )
    async def edit_explanation(
        self, info: Info, id: strawberry.ID, text: str, description: str | None = None
    ) -> Explanation | None:
        row = await loaders(info).query(_edit, _parse_id(id), text, description)
        ctx(info).state.analysis_changed()
        return Explanation.from_row(row)
