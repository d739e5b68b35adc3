"""Jobs remember the Celery task id of the delivery that runs them, so the reaper can report that task lost.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both dialects (SQLite >= 3.35 drops columns natively), as in 0005.


def upgrade() -> None:
    op.add_column("jobs", sa.Column("task_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "task_id")
