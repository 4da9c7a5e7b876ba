"""Event Webhook settings keep SendGrid's ``friendly_name`` (D7, ``tsg_webhooks_v3.json`` ``EventWebhookRequest``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_webhook_settings") as batch_op:
        batch_op.add_column(sa.Column("friendly_name", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_webhook_settings") as batch_op:
        batch_op.drop_column("friendly_name")
