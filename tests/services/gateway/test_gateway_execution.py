"""The execution fast paths (services.gateway.speed.execution) answer exactly like stock graphql-core: same data, same
errors (message, path, null propagation), on the gateway's own operations and on values that must fall back."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
import strawberry
from gateway_support import CAT, DEAD, GraphQL, Seeded
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from support.operations import FEATURE_DETAIL, FEATURES_PAGE, SEARCH

from services.gateway.speed.execution import FastExecutionContext, MemoNameConverter

pytestmark = pytest.mark.usefixtures("speed_layer_on")  # these test the speed layer itself


def _answer(result: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    errors = [(e.message, e.path, e.extensions) for e in result.errors or []]
    return result.data, errors


def _both(gql: GraphQL, query: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """The answer of the gateway schema (fast paths) and of the same schema on Strawberry's stock executor."""
    fast = _answer(gql.run(query, variables))
    stock_schema = gql.schema
    stock_schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        stock = _answer(gql.run(query, variables))
    finally:
        stock_schema.execution_context_class = FastExecutionContext
    return fast, stock


def test_the_gateway_uses_the_fast_executor(gql: GraphQL) -> None:
    assert gql.schema.execution_context_class is FastExecutionContext
    assert isinstance(gql.schema.config.name_converter, MemoNameConverter)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (FEATURES_PAGE, {"page": 1, "first": 50, "sort": "DENSITY", "order": "DESC", "filter": None}),
        (
            FEATURES_PAGE,
            {"page": 1, "first": 7, "sort": "LABEL_SCORE", "order": "ASC", "filter": {"grades": ["High"]}},
        ),
        (FEATURE_DETAIL, {"index": CAT}),
        (FEATURE_DETAIL, {"index": DEAD}),  # dead: null label, null log10 density, no examples
        (FEATURE_DETAIL, {"index": 10_000}),  # absent: null
        (SEARCH, {"query": "cat", "first": 5}),
        ("{ runs { id status config evalCard { explainedVariance l0 } } }", {}),
        ('{ features(runId: "no-such-run") { totalCount } }', {}),  # NOT_FOUND
        (
            FEATURES_PAGE,
            {"page": 0, "first": 5, "sort": "INDEX", "order": "ASC", "filter": None},
        ),  # BAD_INPUT
    ],
)
def test_fast_and_stock_execution_give_the_same_answers(
    gql: GraphQL, seeded: Seeded, query: str, variables: dict[str, Any]
) -> None:
    fast, stock = _both(gql, query, {"runId": seeded.run_id, **variables})
    assert fast == stock
    assert fast[0] is not None or fast[1]


# --------------------------------------------------------------------------------------------------------------
# Values the fast paths must hand back to graphql-core
# --------------------------------------------------------------------------------------------------------------


@strawberry.type
class Row:
    value: float
    maybe: float | None
    name: str
    values: list[float]
    maybe_values: list[float | None]
    names: list[str]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row | None]:
        good = Row(
            value=1.5, maybe=None, name="a", values=[1.0, 2], maybe_values=[None, 3.0], names=["x", "y"]
        )
        nan = Row(
            value=math.nan,
            maybe=math.inf,
            name="b",
            values=[1.0, math.nan],
            maybe_values=[math.nan],
            names=[],
        )
        wrong = Row(value=None, maybe="1.25", name=7, values=[None], maybe_values=["x"], names=[None])  # type: ignore[arg-type]
        return [good, nan, wrong]

    @strawberry.field
    def row(self) -> Row | None:
        return Row(value=None, maybe=None, name="c", values=[], maybe_values=[], names=[])  # type: ignore[arg-type]


ROWS = "{ rows { value maybe name values maybeValues names } row { name value } }"


def _run(execution_context_class: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    schema = strawberry.Schema(query=Query, execution_context_class=execution_context_class)
    return _answer(asyncio.run(schema.execute(ROWS)))


def test_values_the_fast_path_cannot_coerce_fail_exactly_like_stock() -> None:
    fast, stock = _run(FastExecutionContext), _run(StrawberryGraphQLCoreExecutionContext)
    assert fast == stock
    data, errors = fast
    assert data["row"] is None  # a non-null field that resolved to None nulls its nullable parent
    good, nan, wrong = data["rows"]
    assert nan is None and wrong is None  # errors inside an item null that (nullable) item
    assert good == {"value": 1.5, "maybe": None, "name": "a", "values": [1.0, 2.0], "maybeValues": [None, 3.0],
                    "names": ["x", "y"]}  # fmt: skip
    paths = {tuple(path) for _, path, _ in errors}
    assert {("rows", 1, "value"), ("rows", 2, "value"), ("row", "value")} <= paths


def test_plain_values_take_the_fast_path_and_match_stock() -> None:
    @strawberry.type
    class Clean:
        @strawberry.field
        def rows(self) -> list[Row]:
            return [
                Row(value=1, maybe=None, name="a", values=[1.0, 2], maybe_values=[None, 3.5], names=["x"])
            ]

    query = "{ rows { value maybe name values maybeValues names } }"
    answers = [
        _answer(asyncio.run(strawberry.Schema(query=Clean, execution_context_class=cls).execute(query)))
        for cls in (FastExecutionContext, StrawberryGraphQLCoreExecutionContext)
    ]
    assert answers[0] == answers[1]
    expected = {"value": 1.0, "maybe": None, "name": "a", "values": [1.0, 2.0], "maybeValues": [None, 3.5]}
    assert answers[0] == ({"rows": [{**expected, "names": ["x"]}]}, [])


def test_memo_name_converter_converts_like_strawberry() -> None:
    from strawberry.schema.name_converter import NameConverter

    memo, plain = MemoNameConverter(), NameConverter()
    for name in ("run_id", "top_k", "label_contains", "x", "already_camelCase", "run_id"):
        assert memo.apply_naming_config(name) == plain.apply_naming_config(name)
    memo.auto_camel_case = plain.auto_camel_case = False
    assert memo.apply_naming_config("run_id") == plain.apply_naming_config("run_id") == "run_id"


@strawberry.type
class Inner:
    x: float
    tags: list[str]


@strawberry.type
class Outer:
    name: str
    inner: Inner
    maybe_inner: Inner | None
    inners: list[Inner | None]
    required_inners: list[Inner]


@strawberry.type
class Nested:
    @strawberry.field
    def outers(self) -> list[Outer | None]:
        ok = Inner(x=1.0, tags=["a"])
        nan = Inner(x=math.nan, tags=["b"])
        return [
            Outer(name="clean", inner=ok, maybe_inner=None, inners=[ok, None], required_inners=[ok]),
            Outer(
                name="nan in a nullable item", inner=ok, maybe_inner=ok, inners=[nan], required_inners=[ok]
            ),
            Outer(
                name="nan in a required item", inner=ok, maybe_inner=nan, inners=[], required_inners=[ok, nan]
            ),
            Outer(name="None inner", inner=None, maybe_inner=None, inners=[], required_inners=[]),  # type: ignore[arg-type]
        ]


NESTED = """{ outers { __typename name inner { __typename x tags } maybeInner { x }
  inners { x tags } requiredInners { x } } }"""


def test_nested_plain_objects_and_typename_match_stock() -> None:
    answers = [
        _answer(asyncio.run(strawberry.Schema(query=Nested, execution_context_class=cls).execute(NESTED)))
        for cls in (FastExecutionContext, StrawberryGraphQLCoreExecutionContext)
    ]
    assert answers[0] == answers[1]
    data, errors = answers[0]
    clean, nan_item, nan_required, none_inner = data["outers"]
    assert clean == {
        "__typename": "Outer",
        "name": "clean",
        "inner": {"__typename": "Inner", "x": 1.0, "tags": ["a"]},
        "maybeInner": None,
        "inners": [{"x": 1.0, "tags": ["a"]}, None],
        "requiredInners": [{"x": 1.0}],
    }
    assert nan_item["inners"] == [None] and nan_required is None and none_inner is None
    assert {tuple(path) for _, path, _ in errors} >= {("outers", 1, "inners", 0, "x"), ("outers", 3, "inner")}


def test_plain_objects_skip_the_stock_per_field_path_and_fall_back_when_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards the speed-up itself (the tests above would pass with a fast path that never engages)."""
    from graphql.execution.executor import Executor

    stock_fields: list[str] = []
    stock = Executor.execute_field

    def counting(self: Any, parent_type: Any, source: Any, details: Any, path: Any, position: Any) -> Any:
        stock_fields.append(details[0].node.name.value)
        return stock(self, parent_type, source, details, path, position)

    monkeypatch.setattr(Executor, "execute_field", counting)

    @strawberry.type
    class Plain:
        @strawberry.field
        def rows(self, nan: bool = False) -> list[Row]:
            value = math.nan if nan else 2.0
            return [Row(value=value, maybe=None, name="a", values=[1.0], maybe_values=[], names=["x"])] * 50

    schema = strawberry.Schema(query=Plain, execution_context_class=FastExecutionContext)
    answer = asyncio.run(schema.execute("{ rows { __typename value maybe name values names } }"))
    assert answer.errors is None and len(answer.data["rows"]) == 50
    assert stock_fields == ["rows"], "the 50 rows x 6 fields were completed by the fast path"
    stock_fields.clear()
    answer = asyncio.run(schema.execute("{ rows(nan: true) { value name } }"))
    assert answer.errors and stock_fields.count("value") >= 1, "a NaN sends the object back to the stock path"
