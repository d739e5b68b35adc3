"""A graphql-core execution context with fast paths for the two shapes that make up most of the gateway's answers.

A features page is 50 objects of ~8 plain attributes; a feature detail is a few hundred tokens and activations.
Stock graphql-core builds a resolve-info object, a path and an awaitable check for every one of those leaves
(~5-10 us each), which made GraphQL completion the largest CPU cost of an explorer page. Here:

- a *basic* Strawberry field (no resolver, permission or extension: it just reads an attribute) whose type is a
  scalar or enum is read and coerced directly, when the attribute holds a plain ``float``/``int``/``str``/``bool``;
- a list of a built-in scalar (``[Float!]!``, ``[String!]!``...) is coerced item by item in one comprehension.

(``MemoNameConverter`` below memoises Strawberry's per-request camelCasing of argument names.)

Anything else, and any value the fast path cannot coerce (None for a non-null field, NaN, a wrong type...), takes
graphql-core's own path, so results and errors (message, path, null propagation) are exactly the stock ones;
``tests/services/gateway/test_gateway_execution.py`` compares both on every operation the web client sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["FastExecutionContext", "MemoNameConverter"]

_PLAIN_VALUES = frozenset({float, int, str, bool})
_BUILT_IN_SCALARS = (GraphQLFloat, GraphQLInt, GraphQLString, GraphQLBoolean, GraphQLID)

_LeafPlan = tuple[str, Callable[[Any], Any]]
"""(attribute name, the leaf type's output coercion)."""

_plans: dict[int, tuple[GraphQLField, _LeafPlan | None]] = {}
"""Per field definition (by identity; the definition is kept so an id is never reused): its plan, or None."""


def _leaf_plan(field: GraphQLField) -> _LeafPlan | None:
    """How to read a basic Strawberry leaf field directly, or None when it must go through graphql-core."""
    entry = _plans.get(id(field))
    if entry is not None and entry[0] is field:
        return entry[1]
    plan: _LeafPlan | None = None
    definition = field.extensions.get("strawberry-definition")
    leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if (
        definition is not None
        and definition.is_basic_field
        and getattr(field.resolve, "__name__", "") == "_get_basic_result"
        and getattr(definition, "default_resolver", getattr) is getattr
        and not field.args
        and is_leaf_type(leaf)
    ):
        plan = (definition.python_name, leaf.coerce_output_value)  # type: ignore[union-attr]
    _plans[id(field)] = (field, plan)
    return plan


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context plus the fast paths above (same results, same errors)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        field = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        middleware = (
            self.middleware_manager
        )  # Strawberry passes one per request; empty unless an extension resolves
        plan = (
            _leaf_plan(field) if field is not None and not (middleware and middleware.middlewares) else None
        )
        if plan is not None:
            value = getattr(source, plan[0], Undefined)
            if type(value) in _PLAIN_VALUES:
                try:
                    coerced = plan[1](value)
                except Exception:  # noqa: BLE001 - the stock path below raises the proper located error
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
            elif value is None and not isinstance(field.type, GraphQLNonNull):  # type: ignore[union-attr]
                return None
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        non_null = isinstance(item_type, GraphQLNonNull)
        scalar: Any = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (
            type(items) in (list, tuple)
            and scalar in _BUILT_IN_SCALARS
            and self.get_stream_usage(field_details_list, path) is None
        ):
            coerce = scalar.coerce_output_value
            try:  # built-in coercions raise on None, awaitables and bad values: those take the stock path
                if non_null:
                    return [coerce(item) for item in items]
                return [None if item is None else coerce(item) for item in items]
            except Exception:  # noqa: BLE001
                pass
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )


class MemoNameConverter(NameConverter):
    """Strawberry's name converter, memoised: it re-derives the camelCase name of every argument of every resolved
    field on every request (``topExamples(first:)``, ``features(runId:, ...)``), ~6 % of a feature detail's CPU."""

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._names: dict[tuple[bool, str], str] = {}

    def apply_naming_config(self, name: str) -> str:
        key = (self.auto_camel_case, name)
        converted = self._names.get(key)
        if converted is None:
            converted = self._names[key] = super().apply_naming_config(name)
        return converted
