"""Data access by domain: every read and write of the tasks, the CLI and the gateway, one module per domain.

``datasets``, ``runs``, ``pipelines``, ``jobs``, ``metrics``, ``features`` (explorer pages, the one feature filter
and sort map, batched lookups by key), ``analysis`` (bulk replacement of a run's results), ``labels``, ``search``;
``common`` holds ``NotFound`` and the batching helpers. Every function takes a ``Session`` first (open one with
``shared.db.session.session_scope()``) and leaves the commit to the caller. Batched reads (``*_by_id``,
``*_by_key``, ``*_of_runs``) return one result per key, in the order of the keys, from one statement.
"""

from shared.db.repositories.common import NotFound

__all__ = ["NotFound"]
