"""Messages remember the ``X-Request-ID`` of the API request that accepted them (issue 12, D55), so every later
log line about them (compose, delivery, inbound reports, webhooks) can name it, and ``GET /v3/messages`` can
filter by it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("api_request_id", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_messages_tenant_api_request", ["tenant_id", "api_request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_tenant_api_request")
        batch_op.drop_column("api_request_id")
