"""Feature sort indexes end in ``feature_index``: the explorer's tie-break, so a page is an index-only range scan.

Replaces ``(run_id, col)`` by ``(run_id, col, feature_index)`` for density, max_activation and label_score; without
the tie-break column SQLite sorted every row of the run and read each skipped one (20-40 ms for a deep page).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_COLUMNS = ("density", "max_activation", "label_score")


def upgrade() -> None:
    for column in SORT_COLUMNS:
        op.drop_index(f"ix_features_run_{column}", table_name="features")
        op.create_index(f"ix_features_run_{column}_index", "features", ["run_id", column, "feature_index"])


def downgrade() -> None:
    for column in SORT_COLUMNS:
        op.drop_index(f"ix_features_run_{column}_index", table_name="features")
        op.create_index(f"ix_features_run_{column}", "features", ["run_id", column])
