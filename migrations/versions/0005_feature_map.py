"""Feature map: each feature's position on the run's 2-D dictionary map (decoder directions, UMAP-style layout).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both dialects (SQLite >= 3.35 drops columns natively): a batch "move and copy" would
# recreate ``features`` and lose the full-text triggers of migration 0002.


def upgrade() -> None:
    op.add_column("features", sa.Column("map_x", sa.Float(), nullable=True))
    op.add_column("features", sa.Column("map_y", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("features", "map_y")
    op.drop_column("features", "map_x")
