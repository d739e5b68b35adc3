"""The document cache is bounded by (estimated) bytes, not by a count; the parse stops at the token limit."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from services.gateway.documents import BYTES_PER_CHAR, DocumentCache


def test_the_cache_stays_within_its_byte_budget_dropping_the_oldest() -> None:
    cache = DocumentCache(max_bytes=1_000_000, max_tokens=100_000)
    queries = [f"{{ runs {{ id }} a{i}: __typename }}" for i in range(2_000)]
    for q in queries:
        cache.parse(q)
        assert cache.used <= cache.max_bytes
    assert 0 < len(cache) < len(queries)
    first = cache.parse(queries[-1])
    assert cache.parse(queries[-1]) is first  # the newest is still cached


def test_a_document_over_a_quarter_of_the_budget_is_parsed_but_never_kept() -> None:
    cache = DocumentCache(max_bytes=BYTES_PER_CHAR * 4_000, max_tokens=100_000)
    big = "{ " + "__typename " * 200 + "}"
    assert len(big) * BYTES_PER_CHAR > cache.max_bytes // 4
    assert cache.parse(big) is not cache.parse(big) and len(cache) == 0 and cache.used == 0


def test_parsing_stops_at_the_token_limit() -> None:
    cache = DocumentCache(max_bytes=10_000_000, max_tokens=100)
    with pytest.raises(GraphQLError, match="more than 100 tokens"):
        cache.parse("{ " + "__typename " * 200 + "}")


def test_the_guard_remembers_accepted_documents_within_a_bound_and_never_a_refused_one() -> None:
    from services.gateway.guard import ACCEPTED_CHARS, Refused, RequestGuard

    guard = RequestGuard(None, 1 << 20, 32 * 1024, 2000, 32)  # type: ignore[arg-type]
    for i in range(ACCEPTED_CHARS // 10_000 + 50):
        guard.check_document("{ runs { id } }" + " " * 10_000 + f"# {i}")
    assert guard._accepted_chars <= ACCEPTED_CHARS and len(guard._accepted) < ACCEPTED_CHARS // 10_000 + 50
    many = "{ " + "__typename " * 2_500 + "}"
    for _ in range(2):  # refused every time: a refusal is never remembered
        with pytest.raises(Refused):
            guard.check_document(many)
    assert many not in guard._accepted


def test_the_response_cache_is_bounded_by_bytes_and_drops_expired_entries() -> None:
    import time

    from services.gateway.speed.cache import ResponseCache

    cache = ResponseCache(ttl_s=60, max_entries=10_000, max_bytes=1_000_000)
    for i in range(500):
        cache.put((f"q{i}", b"{}", None, False), b"x" * 10_000)
        assert cache.used <= 1_000_000
    assert 50 < len(cache) < 100 and cache.get(("q499", b"{}", None, False)) is not None
    assert cache.get(("q0", b"{}", None, False)) is None  # the oldest went first
    short = ResponseCache(ttl_s=0.01, max_entries=10_000, max_bytes=10**9)
    for i in range(100):
        short.put((f"q{i}", b"{}", None, False), b"x")
    time.sleep(0.02)
    short.put(("new", b"{}", None, False), b"x")
    assert len(short) == 1  # the expired ones left on the put, not only when read again
    short.clear()
    assert short.used == 0
