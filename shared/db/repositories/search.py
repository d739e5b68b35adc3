"""Finding features: full-text search over labels, tokens and example text, and the token index."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.db.models import PG_SEARCH_DOCUMENT, TokenFeatureRow
from shared.features import TokenFeature, TokenIndexRecord

_WORD = re.compile(r"\w+", re.UNICODE)


def search_features(session: Session, run_id: str, query: str, limit: int = 20) -> list[tuple[int, float]]:
    """Features of a run matching every word of ``query`` (as a prefix) in label, tokens or example text, best first.

    Returns ``[(feature_index, score)]``; label matches rank above text matches. PostgreSQL: weighted tsvector
    with ``ts_rank`` over a GIN index; SQLite: FTS5 with ``bm25`` (label weighted 10x).
    """
    words = _WORD.findall(query.lower())
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = text(
            f"SELECT feature_index, ts_rank({PG_SEARCH_DOCUMENT}, q) AS score "
            f"FROM features, to_tsquery('simple', :query) q "
            f"WHERE run_id = :run_id AND ({PG_SEARCH_DOCUMENT}) @@ q "
            "ORDER BY score DESC, feature_index LIMIT :limit"
        )
        params: dict[str, Any] = {
            "query": " & ".join(f"{w}:*" for w in words),
            "run_id": run_id,
            "limit": limit,
        }
    else:
        sql = text(
            "SELECT f.feature_index, -bm25(feature_fts, 10.0, 1.0) AS score "
            "FROM feature_fts JOIN features f ON f.id = feature_fts.rowid "
            "WHERE feature_fts MATCH :query AND f.run_id = :run_id "
            "ORDER BY score DESC, f.feature_index LIMIT :limit"
        )
        params = {"query": " ".join(f'"{w}"*' for w in words), "run_id": run_id, "limit": limit}
    return [(int(i), float(s)) for i, s in session.execute(sql, params)]


def token_features(session: Session, run_id: str, token: str, limit: int = 20) -> TokenIndexRecord | None:
    """The token index entry of ``token`` (exact text, e.g. ``" mouse"``; falls back to the stripped form)."""
    for candidate in dict.fromkeys([token, f" {token.strip()}", token.strip()]):
        stmt = (
            select(TokenFeatureRow)
            .where(TokenFeatureRow.run_id == run_id, TokenFeatureRow.token == candidate)
            .order_by(TokenFeatureRow.rank)
            .limit(limit)
        )
        rows = list(session.scalars(stmt))
        if rows:
            return TokenIndexRecord(
                token_id=rows[0].token_id,
                token=rows[0].token,
                count=rows[0].count,
                features=[
                    TokenFeature(
                        index=r.feature_index,
                        mean_activation=r.mean_activation,
                        fire_fraction=r.fire_fraction,
                    )
                    for r in rows
                ],
            )
    return None
