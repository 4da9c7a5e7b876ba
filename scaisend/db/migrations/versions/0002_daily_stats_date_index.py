"""Index daily_stats on (date, category), so the exporter's "today's rows" query reads only today's rows and its
cost does not grow with the history kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_stats") as batch_op:
        batch_op.create_index("ix_daily_stats_date_category", ["date", "category"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_stats") as batch_op:
        batch_op.drop_index("ix_daily_stats_date_category")
