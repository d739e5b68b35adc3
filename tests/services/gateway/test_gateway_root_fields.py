"""One root field's error never nulls its siblings: over the real app (uvicorn), a document mixing valid root fields
with one (or two) that fail answers the valid ones exactly as they answer alone, the failing ones null, each error
with its code and path. By the GraphQL spec an error in a non-null root field nulls ``data`` as a whole, so every
Query and Mutation root field is nullable; a subscription has one root field (nothing to protect) and stays
non-null."""

from __future__ import annotations

from typing import Any

import graphql
import httpx
import pytest
from gateway_support import CAT, TOKEN, Seeded, Server

R = "r" * 32  # the seeded analysed run (see gateway_support.seed_database)

# (valid root fields, failing root fields: alias -> (field text, code, extensions.field or None))
MIXED: list[tuple[dict[str, str], dict[str, tuple[str, str, str | None]]]] = [
    (
        {"runs": "runs { id name }"},
        {"search": ('search(runId: "nope", query: "x") { index }', "NOT_FOUND", None)},
    ),
    (
        {"serverInfo": "serverInfo { maxPageSize }", "datasets": "datasets { id name }"},
        {"features": (f'features(runId: "{R}", first: 500) {{ totalCount }}', "BAD_INPUT", "first")},
    ),
    (
        {
            "run": f'run(id: "{R}") {{ name featureCount }}',
            "explanationInfo": "explanationInfo { __typename }",
            "featureMap": f'featureMap(runId: "{R}") {{ index x y }}',
        },
        {"tokenFeatures": (f'tokenFeatures(runId: "{R}", token: "") {{ index }}', "BAD_INPUT", "token")},
    ),
    (
        {"jobs": "jobs { id kind status }", "feature": f'feature(runId: "{R}", index: {CAT}) {{ label }}'},
        {
            "a": ('a: search(runId: "nope", query: "cat") { index }', "NOT_FOUND", None),
            "b": (f'b: similarFeatures(runId: "{R}", index: 999) {{ index }}', "NOT_FOUND", None),
        },
    ),
    (
        {"hits": f'hits: search(runId: "{R}", query: "cat") {{ index label }}'},
        {"compareRuns": ("compareRuns { datasetId }", "BAD_INPUT", "datasetId")},
    ),
]


def _post(url: str, query: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{url}/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("valid,failing", MIXED, ids=[next(iter(f)) for _, f in MIXED])
def test_a_failing_root_field_leaves_its_siblings_answered_as_alone(
    server: Server, valid: dict[str, str], failing: dict[str, tuple[str, str, str | None]]
) -> None:
    alone = {key: _post(server.url, f"{{ {text} }}") for key, text in valid.items()}
    for key, body in alone.items():
        assert "errors" not in body, body
        assert body["data"][key] not in (None, []), body  # a sibling with something to lose
    texts = [*valid.values(), *(text for text, _, _ in failing.values())]
    for order in (texts, texts[::-1]):  # the failing field first and last
        body = _post(server.url, "{ " + " ".join(order) + " }")
        assert body["data"] is not None, body
        for key in valid:
            assert body["data"][key] == alone[key]["data"][key]
        for key in failing:
            assert body["data"][key] is None
        got = sorted(
            (e["path"][0], e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]
        )
        assert got == sorted((key, code, field) for key, (_, code, field) in failing.items())


def test_a_failing_mutation_does_not_hide_the_one_that_ran(mutable_server: Server, fresh: Seeded) -> None:
    """Mutations run in order; with a non-null root the second one's error nulled ``data`` and the client never
    learned that the first had changed the label."""
    body = _post(
        mutable_server.url,
        f'mutation {{ a: relabelFeature(runId: "{R}", index: {CAT}, label: "felines") {{ label labelSource }}'
        f' b: relabelFeature(runId: "nope", index: 0, label: "y") {{ label }}'
        f' c: relabelFeature(runId: "{R}", index: {CAT}, label: "   ") {{ label }} }}',
        token=TOKEN,
    )
    assert body["data"] == {"a": {"label": "felines", "labelSource": "human"}, "b": None, "c": None}
    got = [(e["path"], e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]]
    assert got == [(["b"], "NOT_FOUND", None), (["c"], "BAD_INPUT", "label")]
    # and it did run: the label is stored
    again = _post(mutable_server.url, f'{{ feature(runId: "{R}", index: {CAT}) {{ label }} }}')
    assert again == {"data": {"feature": {"label": "felines"}}}


def test_root_fields_are_nullable_where_a_sibling_can_exist() -> None:
    """The rule for new root fields: nullable Query and Mutation fields, non-null Subscription fields."""
    from services.gateway.schema import build_schema
    from services.gateway.settings import GatewaySettings

    schema = build_schema(GatewaySettings())._schema
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        strict = [name for name, f in root.fields.items() if isinstance(f.type, graphql.GraphQLNonNull)]
        assert strict == [], f"{root.name} root fields must be nullable: {strict}"
    assert schema.subscription_type is not None
    assert all(isinstance(f.type, graphql.GraphQLNonNull) for f in schema.subscription_type.fields.values())
