"""Analysis results: features, examples, neighbours, logit-lens tokens, labels, token index, full-text search.

Search: on PostgreSQL a GIN index over a weighted tsvector of (label, search_text); on SQLite an FTS5 table
``feature_fts`` with ``features`` as external content, kept in sync by triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay textually identical to shared.db.models.PG_SEARCH_DOCUMENT (queries use it to hit the index).
PG_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple', coalesce(label, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(search_text, '')), 'B')"
)

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE feature_fts USING fts5(label, search_text, content='features', content_rowid='id',"
    " tokenize='unicode61')",
    "CREATE TRIGGER feature_fts_ai AFTER INSERT ON features BEGIN"
    " INSERT INTO feature_fts(rowid, label, search_text) VALUES (new.id, new.label, new.search_text); END",
    "CREATE TRIGGER feature_fts_ad AFTER DELETE ON features BEGIN"
    " INSERT INTO feature_fts(feature_fts, rowid, label, search_text)"
    " VALUES ('delete', old.id, old.label, old.search_text); END",
    "CREATE TRIGGER feature_fts_au AFTER UPDATE OF label, search_text ON features BEGIN"
    " INSERT INTO feature_fts(feature_fts, rowid, label, search_text)"
    " VALUES ('delete', old.id, old.label, old.search_text);"
    " INSERT INTO feature_fts(rowid, label, search_text) VALUES (new.id, new.label, new.search_text); END",
]


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "features",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("n_active", sa.Integer(), nullable=False),
        sa.Column("density", sa.Float(), nullable=False),
        sa.Column("log10_density", sa.Float(), nullable=True),
        sa.Column("mean_activation", sa.Float(), nullable=False),
        sa.Column("max_activation", sa.Float(), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("dense", sa.Boolean(), nullable=False),
        sa.Column("histogram", sa.JSON(), nullable=False),
        sa.Column("top_tokens", sa.JSON(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("label_source", sa.String(length=16), nullable=False),
        sa.Column("label_description", sa.Text(), nullable=True),
        sa.Column("label_score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        _run_fk("features"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_features")),
        sa.UniqueConstraint("run_id", "feature_index", name=op.f("uq_features_run_id_feature_index")),
    )
    op.create_index("ix_features_run_density", "features", ["run_id", "density"])
    op.create_index("ix_features_run_max_activation", "features", ["run_id", "max_activation"])
    op.create_index("ix_features_run_label_score", "features", ["run_id", "label_score"])
    op.create_table(
        "feature_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=True),
        sa.Column("bin_low", sa.Float(), nullable=True),
        sa.Column("bin_high", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("context", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.JSON(), nullable=False),
        sa.Column("token_ids", sa.JSON(), nullable=False),
        sa.Column("activations", sa.JSON(), nullable=False),
        sa.Column("max_position", sa.Integer(), nullable=False),
        sa.Column("max_activation", sa.Float(), nullable=False),
        _run_fk("feature_examples"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_examples")),
    )
    op.create_index("ix_feature_examples_lookup", "feature_examples", ["run_id", "feature_index", "kind", "rank"])
    op.create_table(
        "feature_neighbours",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("neighbour_index", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        _run_fk("feature_neighbours"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_neighbours")),
    )
    op.create_index(
        "ix_feature_neighbours_lookup", "feature_neighbours", ["run_id", "feature_index", "kind", "rank"]
    )
    op.create_table(
        "feature_logits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _run_fk("feature_logits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_logits")),
    )
    op.create_index("ix_feature_logits_lookup", "feature_logits", ["run_id", "feature_index", "direction", "rank"])
    op.create_index("ix_feature_logits_token", "feature_logits", ["run_id", "token"])
    op.create_table(
        "feature_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _run_fk("feature_labels"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_labels")),
    )
    op.create_index("ix_feature_labels_lookup", "feature_labels", ["run_id", "feature_index", "created_at"])
    op.create_table(
        "token_features",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("mean_activation", sa.Float(), nullable=False),
        sa.Column("fire_fraction", sa.Float(), nullable=False),
        _run_fk("token_features"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_features")),
    )
    op.create_index("ix_token_features_token", "token_features", ["run_id", "token", "rank"])
    op.create_index("ix_token_features_token_id", "token_features", ["run_id", "token_id", "rank"])
    _create_search()


def _create_search() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_features_search ON features USING gin (({PG_SEARCH_DOCUMENT}))")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("feature_fts_ai", "feature_fts_ad", "feature_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS feature_fts")
    for table in (
        "token_features",
        "feature_labels",
        "feature_logits",
        "feature_neighbours",
        "feature_examples",
        "features",
    ):
        op.drop_table(table)
