"""A seeded property-based fuzz of the whole schema against the real gateway (uvicorn, every middleware).

hypothesis-graphql writes queries and mutations from the schema itself (every root field, argument and input
type), with IDs drawn from the seeded database, JSON configs mixing real keys, hostile values and server paths,
and every string Unicode allows. Each answer must be an HTTP status below 500 and JSON whose errors all carry an
``extensions.code`` other than INTERNAL, with no internals in it (tracebacks, server paths, SQL), and ``data`` never
null when a field failed (root fields are nullable: one field's error never nulls its siblings); the gateway's log
must stay free of errors, tracebacks, "never awaited" and unraisable-exception noise; it is healthy afterwards. ``FUZZ_QUERIES`` and
``FUZZ_MUTATIONS`` set the number of examples (CI: 2,000 and 300; the seed is fixed, so a run is reproducible).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import graphql
import httpx
import pytest
from gateway_support import REPO, TOKEN, Seeded, gateway_process, process_env
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from support.servers import free_port

N_QUERIES = int(os.environ.get("FUZZ_QUERIES", "2000"))
N_MUTATIONS = int(os.environ.get("FUZZ_MUTATIONS", "300"))
LEAKS = ("Traceback", 'File "', "site-packages", "sqlalchemy", "SELECT ", "sqlite3", "psycopg", str(REPO))
NOISE = ("was never awaited", "Exception ignored", "Task exception was never retrieved")
CONFIG_KEYS = ("model", "corpus", "gguf_file", "hook", "n_tokens", "batch_size", "n_steps", "lr", "d_sae", "k",
               "architecture", "top_k", "seed", "context_length", "output", "run", "activations", "l1_coefficient",
               "matryoshka_widths", "adam_betas", "device", "corpus_split")  # fmt: skip
HOSTILE_STRINGS = ("/etc", "../../etc/passwd", "~/.ssh/id_rsa", "@artifacts/../../etc", "gpt2", "relu", "topk",
                   "roneneldan/TinyStories", "blocks.1.hook_resid_pre", "smollm2", "x" * 300, "", "\u202e")  # fmt: skip


@dataclass
class Gateway:
    url: str
    log: Path
    db: Seeded


@pytest.fixture
def fuzz_gateway(fresh: Seeded, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway in its own process (its own GIL: hypothesis writes examples while it answers) over a fresh
    seeded database, the rate limit out of the way."""
    env = process_env(
        keep=("SAELAB_GATEWAY_FAST_PATHS",),
        SAELAB_DATABASE_URL=fresh.url,
        SAELAB_ARTIFACTS_DIR=str(fresh.artifacts),
        SAELAB_API_TOKEN=TOKEN,
        SAELAB_GATEWAY_INFERENCE_BURST="100000000",
        SAELAB_GATEWAY_INFERENCE_RATE_PER_MINUTE="1e9",
        PYTHONWARNINGS="default",  # every warning reaches the log
    )
    port = free_port()
    script = [sys.executable, str(Path(__file__).with_name("fuzz_gateway.py")), str(port)]
    with gateway_process(script, port, env, tmp_path) as (url, log):
        yield Gateway(url, log, fresh)


def _schema() -> graphql.GraphQLSchema:
    from services.gateway.schema import build_schema
    from services.gateway.settings import GatewaySettings

    return build_schema(GatewaySettings())._schema


def _scalars(db: Seeded) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    ids = [db.run_id, db.pending_run_id, db.dataset_id, db.pipeline_id, *db.job_ids, db.queued_job_id, "nope"]
    id_values = st.one_of(st.sampled_from(ids), st.text(max_size=40)).map(nodes.String)
    leaf = st.one_of(
        st.integers(-(2**70), 2**70).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.sampled_from(HOSTILE_STRINGS).map(nodes.String),
        st.text(max_size=30).map(nodes.String),
        st.booleans().map(nodes.Boolean),
        st.just(graphql.NullValueNode()),
    )
    names = st.one_of(
        st.sampled_from(CONFIG_KEYS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
    )

    def objects(children: st.SearchStrategy[graphql.ValueNode]) -> st.SearchStrategy[graphql.ValueNode]:
        fields = st.dictionaries(names, children, max_size=6).map(
            lambda d: [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()]
        )
        return st.one_of(fields.map(nodes.Object), st.lists(children, max_size=4).map(nodes.List))

    json_values = st.recursive(leaf, objects, max_leaves=12)
    return {"ID": id_values, "JSON": json_values}


def _check(query: str, answer: httpx.Response, fresh: Seeded, counts: dict[str, int]) -> None:
    counts["requests"] += 1
    assert answer.status_code < 500, (answer.status_code, query, answer.text[:500])
    body = answer.json()
    if any(error.get("path") for error in body.get("errors") or []):  # a field failed while executing
        assert body.get("data") is not None, ("a field's error nulled its siblings", query, body)
        counts["partial"] = counts.get("partial", 0) + 1
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, ("an error without a code", query, error)
        assert code != "INTERNAL", (query, error)
        counts[code] = counts.get(code, 0) + 1
    text = answer.text
    for leak in (*LEAKS, str(fresh.artifacts), str(fresh.artifacts.resolve())):
        assert leak not in text, (leak, query, text[:1000])


FUZZ = settings(
    derandomize=True,  # seeded: the same examples every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def test_fuzzing_the_whole_schema_finds_no_5xx_no_internal_no_codeless_answer_and_no_leak(
    fuzz_gateway: Gateway,
) -> None:
    fresh = fuzz_gateway.db
    schema = _schema()
    scalars = _scalars(fresh)
    counts: dict[str, int] = {"requests": 0}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    local = threading.local()

    def post(query: str, headers: dict[str, str]) -> tuple[str, httpx.Response]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=fuzz_gateway.url, timeout=60)
        return query, local.client.post("/graphql", json={"query": query}, headers=headers)

    sent: list[Future[tuple[str, httpx.Response]]] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:  # requests go out while hypothesis writes the next examples

        @settings(FUZZ, max_examples=N_QUERIES)
        @given(query=queries(schema, custom_scalars=scalars))
        def fuzz_queries(query: str) -> None:
            sent.append(pool.submit(post, query, {}))

        @settings(FUZZ, max_examples=N_MUTATIONS)
        @given(mutation=mutations(schema, custom_scalars=scalars))
        def fuzz_mutations(mutation: str) -> None:
            sent.append(pool.submit(post, mutation, auth))

        fuzz_queries()
        n_queries = len(sent)
        fuzz_mutations()
        n_mutations = len(sent) - n_queries
        for future in sent:
            _check(*future.result(), fresh, counts)
    seconds = time.perf_counter() - start
    print(
        f"\nfuzz: {n_queries} queries, {n_mutations} mutations in {seconds:.0f} s; {dict(sorted(counts.items()))}"
    )
    assert n_queries >= N_QUERIES and n_mutations >= N_MUTATIONS
    assert httpx.get(f"{fuzz_gateway.url}/healthz").status_code == 200
    runs = httpx.post(f"{fuzz_gateway.url}/graphql", json={"query": "{ runs { id } }"}).json()["data"]["runs"]
    assert runs  # still answering queries
    log = fuzz_gateway.log.read_text()
    noise = [line for line in log.splitlines() if any(n in line for n in (*NOISE, "ERROR", "Traceback"))]
    assert noise == [], "\n".join(noise[:20])
