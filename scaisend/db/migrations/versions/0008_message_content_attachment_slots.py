"""A request's attachments are stored once (issue 9 finding 8, D70): ``message_contents.mime`` no longer holds them,
``attachment_slots`` says where the SMTP service puts each one back from ``send_requests`` before signing. Rows
written before this revision have no slots and are sent as stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_contents") as batch_op:
        batch_op.add_column(sa.Column("attachment_slots", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_contents") as batch_op:
        batch_op.drop_column("attachment_slots")
