"""A parse + validation cache for GraphQL documents, bounded by an estimate of its memory rather than by a count.

Strawberry's ``ParserCache``/``ValidationCache`` keep 256 documents each whatever their size, so 256 distinct large
documents could pin gigabytes. Here one LRU keyed by the query text holds the parsed document and the validation
errors per rule set; each entry is charged ``BYTES_PER_CHAR`` times its text (a syntax tree measures 50-200 bytes
per character of text) and the least recently used entries are dropped beyond ``max_bytes``. A document larger
than a quarter of the budget is parsed and validated but never kept. Parsing stops at ``max_tokens``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

BYTES_PER_CHAR = 256
"""Memory charged per character of a cached document (its syntax tree and validation results)."""
ENTRY_OVERHEAD = 4096


@dataclass
class _Entry:
    document: DocumentNode
    cost: int
    errors: dict[tuple[Any, ...], list[GraphQLError]] = field(default_factory=dict)


class DocumentCache:
    """Thread-safe LRU of parsed documents and their validation errors, bounded by ``max_bytes``."""

    def __init__(self, max_bytes: int, max_tokens: int) -> None:
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.used = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def parse(self, query: str) -> DocumentNode:
        """The parsed document (cached when it fits); a GraphQLError for a syntax error or too many tokens."""
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None:
                self._entries.move_to_end(query)
                return entry.document
        document = parse(query, max_tokens=self.max_tokens)
        cost = ENTRY_OVERHEAD + BYTES_PER_CHAR * len(query)
        if cost <= self.max_bytes // 4:
            with self._lock:
                if query not in self._entries:
                    self._entries[query] = _Entry(document, cost)
                    self.used += cost
                    self._evict()
        return document

    def validate(self, schema: Any, document: DocumentNode, rules: Any, query: str) -> list[GraphQLError]:
        """The validation errors of ``document`` (cached beside its parse when that is cached)."""
        from strawberry.schema.schema import validate_document

        key = tuple(rules or ())
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None and entry.document is document and key in entry.errors:
                return entry.errors[key]
        errors = validate_document(schema, document, rules)
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None and entry.document is document:
                entry.errors[key] = errors
        return errors

    def _evict(self) -> None:
        while self.used > self.max_bytes and self._entries:
            _, entry = self._entries.popitem(last=False)
            self.used -= entry.cost


class CachedDocuments(SchemaExtension):
    """Parse and validate through a shared ``DocumentCache`` (pass a factory: one instance per operation)."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.cache.max_tokens
        if context.query is not None:
            # on a syntax error Strawberry parses it again and reports it (BAD_INPUT) the usual way
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.cache.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.query is not None:
            context.pre_execution_errors = self.cache.validate(
                context.schema._schema, context.graphql_document, context.validation_rules, context.query
            )
        yield
