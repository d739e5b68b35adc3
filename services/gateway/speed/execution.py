"""A graphql-core execution context with fast paths for the shapes that make up most of the gateway's answers.

A features page is 50 objects of ~8 plain attributes, a feature detail a few dozen small objects and a few hundred
tokens and activations, a prompt analysis 512 (index, label, activation) objects. Stock graphql-core builds a
resolve-info object, a path and an awaitable check for every one of those leaves, which made GraphQL completion
the largest CPU cost of those answers (bench/README.md, "Speed layer", has the figures). Here:

- a *plain* field is a basic Strawberry field (no resolver, permission or extension: it reads an attribute) whose
  type is a scalar or enum, or a list of a built-in scalar (``[Float!]!``, ``[String!]!``...); ``__typename`` too;
- an object whose selected fields are all plain is completed in one pass that reads and coerces each attribute,
  and a list of such objects in one loop (no per-item completion, path or awaitable check);
- any other plain field is read and coerced directly, and a list of a built-in scalar in one comprehension.

Anything else, and any value the fast path cannot coerce (None for a non-null field, NaN, a wrong type...), takes
graphql-core's own path for the whole object or field, so results and errors (message, path, null propagation)
are exactly the stock ones; ``tests/services/gateway/test_gateway_execution.py`` compares both.

``MemoNameConverter`` memoises Strawberry's per-request camelCasing of argument names.

This overrides graphql-core internals (``execute_fields``, ``execute_field``, ``complete_iterable_value``) and
reads a Strawberry internal (the basic resolver's name): ``pyproject.toml`` bounds both libraries to the versions
tested, and ``SAELAB_GATEWAY_FAST_PATHS=0`` runs without it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    TypeNameMetaFieldDef,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["FastExecutionContext", "MemoNameConverter"]

_PLAIN_VALUES = frozenset({float, int, str, bool})
_BUILT_IN_SCALARS = (GraphQLFloat, GraphQLInt, GraphQLString, GraphQLBoolean, GraphQLID)
_SEQUENCES = (list, tuple)

LEAF, LIST, TYPENAME, OBJECT, OBJECT_LIST = range(5)


@dataclass(slots=True, eq=False)  # compared and hashed by identity, as before
class _Plain:
    """How to complete a plain field: its kind, the attribute, the scalar's coercion, nullability, and for an
    object (or list of objects) field the plans of the selected sub-fields."""

    kind: int
    attribute: str
    coerce: Callable[[Any], Any] = str
    non_null: bool = True
    items_non_null: bool = True
    object_type: GraphQLObjectType | None = None
    fields: list[tuple[str, _Plain]] | None = None

    def with_fields(self, fields: list[tuple[str, _Plain]]) -> _Plain:
        return _Plain(self.kind, self.attribute, self.coerce, self.non_null, self.items_non_null, self.object_type,
                      fields)  # fmt: skip


_Plans = dict[int, tuple[GraphQLField, "_Plain | None"]]
"""Per field definition (by identity; the definition is kept so an id is never reused): its plan, or None. Object
plans here have no sub-field plans yet: those depend on the query's selection (``FastExecutionContext``)."""

_schema_plans: weakref.WeakKeyDictionary[GraphQLSchema, _Plans] = weakref.WeakKeyDictionary()
"""The field plans of each schema, kept as long as the schema."""


def _plain_field(plans: _Plans, field: GraphQLField) -> _Plain | None:
    """How to read a plain field directly, or None when it must go through graphql-core (memoised in ``plans``)."""
    entry = plans.get(id(field))
    if entry is not None and entry[0] is field:
        return entry[1]
    plan: _Plain | None = None
    definition = field.extensions.get("strawberry-definition")
    non_null = isinstance(field.type, GraphQLNonNull)
    inner: Any = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if field is TypeNameMetaFieldDef:
        plan = _Plain(TYPENAME, "")
    elif (
        definition is not None
        and definition.is_basic_field
        and getattr(field.resolve, "__name__", "") == "_get_basic_result"
        and getattr(definition, "default_resolver", getattr) is getattr
        and not field.args
    ):
        name = definition.python_name
        if is_leaf_type(inner):
            plan = _Plain(LEAF, name, inner.coerce_output_value, non_null)
        elif isinstance(inner, GraphQLObjectType):
            plan = _Plain(OBJECT, name, non_null=non_null, object_type=inner)
        elif isinstance(inner, GraphQLList):
            item: Any = inner.of_type
            items_non_null = isinstance(item, GraphQLNonNull)
            item = item.of_type if isinstance(item, GraphQLNonNull) else item
            if item in _BUILT_IN_SCALARS:
                plan = _Plain(LIST, name, item.coerce_output_value, non_null, items_non_null)
            elif isinstance(item, GraphQLObjectType):
                plan = _Plain(
                    OBJECT_LIST, name, non_null=non_null, items_non_null=items_non_null, object_type=item
                )
    plans[id(field)] = (field, plan)
    return plan


_FAILED = object()


def _read_object(fields: list[tuple[str, _Plain]], source: Any, type_name: str) -> Any:
    """The completed object (a dict in selection order), or ``_FAILED``."""
    row: dict[str, Any] = {}
    for response_name, plan in fields:
        value = _read(plan, source, type_name)
        if value is _FAILED:
            return _FAILED
        row[response_name] = value
    return row


def _read(plan: _Plain, source: Any, type_name: str) -> Any:
    """The completed value of a plain field, or ``_FAILED`` when the stock path must decide (and raise)."""
    kind = plan.kind
    if kind == TYPENAME:
        return type_name
    value = getattr(source, plan.attribute, Undefined)
    if value is None:
        return _FAILED if plan.non_null else None
    if kind == LEAF:
        if type(value) not in _PLAIN_VALUES:
            return _FAILED
        try:
            coerced = plan.coerce(value)
        except Exception:  # noqa: BLE001 - the stock path raises the proper located error
            return _FAILED
        return _FAILED if coerced is None or coerced is Undefined else coerced
    if kind == OBJECT:
        return _read_object(plan.fields, value, plan.object_type.name)  # type: ignore[arg-type,union-attr]
    if type(value) not in _SEQUENCES:
        return _FAILED
    if kind == LIST:
        return _scalars(plan.coerce, value, plan.items_non_null)
    return _objects(plan.fields, value, plan.object_type.name, plan.items_non_null)  # type: ignore[arg-type,union-attr]


def _objects(fields: list[tuple[str, _Plain]], items: Any, type_name: str, non_null: bool) -> Any:
    """A list of plain objects completed in one loop, or ``_FAILED``."""
    completed: list[Any] = []
    for item in items:
        if item is None:
            if non_null:
                return _FAILED
            completed.append(None)
            continue
        row = _read_object(fields, item, type_name)
        if row is _FAILED:
            return _FAILED
        completed.append(row)
    return completed


def _scalars(coerce: Callable[[Any], Any], items: Any, non_null: bool) -> Any:
    """A list of a built-in scalar coerced in one comprehension, or ``_FAILED`` (built-in coercions raise on None,
    awaitables and bad values: those take the stock path)."""
    try:
        if non_null:
            return [coerce(item) for item in items]
        return [None if item is None else coerce(item) for item in items]
    except Exception:  # noqa: BLE001
        return _FAILED


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context plus the fast paths above (same results, same errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry passes a middleware manager per request, empty unless an extension resolves fields
        middleware = self.middleware_manager
        self._fast = not (middleware and middleware.middlewares)
        self._objects: dict[int, tuple[Any, list[tuple[str, _Plain]] | None]] = {}
        self._plans = _schema_plans.setdefault(self.schema, {})

    def _object_plan(self, parent_type: GraphQLObjectType, fields: Any) -> list[tuple[str, _Plain]] | None:
        """The plans of every selected field of an object (recursively for object fields), or None when one is
        not plain; memoised per request (graphql-core reuses one grouped field set for every object of a list)."""
        entry = self._objects.get(id(fields))
        if entry is not None and entry[0] is fields:
            return entry[1]
        plans: list[tuple[str, _Plain]] | None = []
        for response_name, details in fields.items():
            plan = self._field_plan(parent_type, details)
            if plan is None:
                plans = None
                break
            plans.append((response_name, plan))  # type: ignore[union-attr]
        self._objects[id(fields)] = (fields, plans)
        return plans

    def _field_plan(self, parent_type: GraphQLObjectType, details: Any) -> _Plain | None:
        node = details[0].node
        field = self.schema.get_field(parent_type, node.name.value)
        plan = _plain_field(self._plans, field) if field is not None and not node.arguments else None
        if plan is None or plan.kind not in (OBJECT, OBJECT_LIST):
            return plan
        object_type: Any = plan.object_type
        if object_type.is_type_of is not None:
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, details)
        fields = None if new_defer_usages else self._object_plan(object_type, grouped_field_set)
        return None if fields is None else plan.with_fields(fields)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plans = self._object_plan(parent_type, grouped_field_set) if self._fast else None
        if plans is not None:
            results = _read_object(plans, source_value, parent_type.name)
            if results is not _FAILED:
                return results
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._fast:
            plan = self._field_plan(parent_type, field_details_list)
            if plan is not None:
                value = _read(plan, source, parent_type.name)
                if value is not _FAILED:
                    return value
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
        if type(items) in _SEQUENCES and self.get_stream_usage(field_details_list, path) is None:
            non_null = isinstance(item_type, GraphQLNonNull)
            inner: Any = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
            if inner in _BUILT_IN_SCALARS:
                completed = _scalars(inner.coerce_output_value, items, non_null)
            elif isinstance(inner, GraphQLObjectType) and self._fast and position_context is None:
                completed = self._plain_objects(inner, field_details_list, items, non_null)
            else:
                completed = _FAILED
            if completed is not _FAILED:
                return completed
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_objects(self, object_type: GraphQLObjectType, details: Any, items: Any, non_null: bool) -> Any:
        """A list of objects whose selected fields are all plain, completed in one loop, or ``_FAILED``."""
        if object_type.is_type_of is not None:
            return _FAILED
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, details)
        plans = None if new_defer_usages else self._object_plan(object_type, grouped_field_set)
        return _FAILED if plans is None else _objects(plans, items, object_type.name, non_null)


class MemoNameConverter(NameConverter):
    """Strawberry's name converter, memoised: it re-derives the camelCase name of every argument of every resolved
    field on every request (``topExamples(first:)``, ``features(runId:, ...)``)."""

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._names: dict[tuple[bool, str], str] = {}

    def apply_naming_config(self, name: str) -> str:
        key = (self.auto_camel_case, name)
        converted = self._names.get(key)
        if converted is None:
            converted = self._names[key] = super().apply_naming_config(name)
        return converted
