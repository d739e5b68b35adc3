"""GraphQL domain ``compare``: evaluation results of a set of runs on one dataset (a sweep), with Pareto fronts.

``compareRuns`` gives one point per run (L0, EV, CE loss recovered, dead and dense fractions, the knob that set
its sparsity) and marks the runs on the L0-EV and L0-CE-recovered fronts; the numbers and the fronts are those of
``saelab compare`` (``shared.pareto``).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from services.gateway.auth import read_field
from services.gateway.common import loaders
from services.gateway.errors import BadInput, NotFound
from services.gateway.runs import Run
from shared.db.repositories.runs import list_runs
from shared.pareto import ComparePoint as Point
from shared.pareto import pareto_front, point_from_eval

MAX_COMPARED = 200
"""Most runs one comparison shows."""


@strawberry.type(description="One run in a comparison: its evaluation as the Pareto view plots it.")
class ComparePoint:
    run_id: strawberry.ID
    name: str
    architecture: str
    d_sae: int | None
    k: int | None
    sparsity_coefficient: float | None = strawberry.field(
        description="The L1 coefficient (relu, gated) or L0 coefficient (jumprelu); null for the TopK family."
    )
    l0: float | None
    explained_variance: float | None
    ce_loss_recovered: float | None
    dead_fraction: float | None
    dense_fraction: float | None
    eval_tokens: int | None = strawberry.field(description="Held-out tokens the metrics were measured on.")
    evaluated: bool
    on_ev_front: bool = strawberry.field(description="On the L0 vs explained-variance Pareto front.")
    on_ce_front: bool = strawberry.field(description="On the L0 vs CE-loss-recovered Pareto front.")
    run: Run


@strawberry.type(description="Runs on one dataset side by side.")
class Comparison:
    dataset_id: strawberry.ID
    points: list[ComparePoint] = strawberry.field(description="One per run, newest run first.")


def _points(rows: list) -> list[ComparePoint]:  # type: ignore[type-arg]
    raw: list[Point] = [
        point_from_eval(row.id, row.name or row.id[:8], row.config or {}, row.eval) for row in rows
    ]
    ev, ce = pareto_front(raw, "explained_variance"), pareto_front(raw, "ce_loss_recovered")
    return [
        ComparePoint(
            run_id=strawberry.ID(p.run),
            name=p.name,
            architecture=p.architecture,
            d_sae=p.d_sae,
            k=p.k,
            sparsity_coefficient=p.sparsity_coefficient,
            l0=p.l0,
            explained_variance=p.explained_variance,
            ce_loss_recovered=p.ce_loss_recovered,
            dead_fraction=p.dead_fraction,
            dense_fraction=p.dense_fraction,
            eval_tokens=p.n_tokens,
            evaluated=p.evaluated,
            on_ev_front=i in ev,
            on_ce_front=i in ce,
            run=Run.from_row(row),
        )
        for i, (p, row) in enumerate(zip(raw, rows, strict=True))
    ]


@strawberry.type
class CompareQueries:
    @read_field(
        "Evaluation of the runs of a dataset (datasetId) or of chosen runs on one dataset (runIds), "
        "with each run's place on the L0-EV and L0-CE Pareto fronts.",
    )
    async def compare_runs(
        self, info: Info, dataset_id: strawberry.ID | None = None, run_ids: list[strawberry.ID] | None = None
    ) -> Comparison | None:
        if (dataset_id is None) == (run_ids is None):
            raise BadInput("give exactly one of datasetId and runIds", field="datasetId")
        lo = loaders(info)
        if run_ids is not None:
            if not 1 <= len(run_ids) <= MAX_COMPARED:
                raise BadInput(
                    f"runIds: between 1 and {MAX_COMPARED} runs (got {len(run_ids)})", field="runIds"
                )
            rows = []
            for rid in dict.fromkeys(str(r) for r in run_ids):
                row = await lo.runs.load(rid)
                if row is None:
                    raise NotFound(f"run {rid!r} not found", runId=rid)
                rows.append(row)
            datasets = sorted({row.dataset_id for row in rows})
            if len(datasets) > 1:
                raise BadInput(
                    f"runIds: the runs were trained on {len(datasets)} different datasets; compare runs of one",
                    field="runIds",
                )
            return Comparison(dataset_id=strawberry.ID(datasets[0]), points=_points(rows))
        dataset = await lo.datasets.load(str(dataset_id))
        if dataset is None:
            raise NotFound(f"dataset {str(dataset_id)!r} not found", datasetId=str(dataset_id))
        rows = await lo.query(list_runs, str(dataset_id), MAX_COMPARED)
        return Comparison(dataset_id=strawberry.ID(dataset.id), points=_points(rows))
