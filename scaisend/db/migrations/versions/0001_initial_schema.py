"""Initial schema: every table of the data model (D18); email_events range-partitioned by month on MySQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 01:26:39.838994
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import scaisend.db.types

# utf8mb4 everywhere on MySQL/MariaDB, whatever the server's default character set.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partition_email_events() -> None:
    """D18: on MySQL/MariaDB, range-partition email_events by month of occurred_at.

    Partitions are created for the current month and the next three, plus a catch-all ``pmax``; later months are
    split out of ``pmax`` with ``ALTER TABLE ... REORGANIZE PARTITION`` (docs/deploy.md). SQLite keeps one table.
    """
    if op.get_bind().dialect.name != "mysql":
        return
    from datetime import UTC, date, datetime

    today = datetime.now(UTC).date()
    parts = []
    year, month = today.year, today.month
    for _ in range(4):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        bound = date(year, month, 1)
        prev = date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1)
        parts.append(f"PARTITION p{prev:%Y%m} VALUES LESS THAN (TO_DAYS('{bound.isoformat()}'))")
    parts.append("PARTITION pmax VALUES LESS THAN MAXVALUE")
    op.execute("ALTER TABLE email_events PARTITION BY RANGE (TO_DAYS(occurred_at)) (" + ", ".join(parts) + ")")


def upgrade() -> None:
    op.create_table(
        "email_events",
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("metadata", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "occurred_at", name=op.f("pk_email_events")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("email_events", schema=None) as batch_op:
        batch_op.create_index("ix_email_events_message", ["message_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_email_events_tenant_occurred", ["tenant_id", "occurred_at"], unique=False)
    _partition_email_events()

    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("scaikey_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("scaikey_id", name=op.f("uq_partners_scaikey_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_partners_slug")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("name", name=op.f("uq_permissions_name")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("scaikey_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("scaikey_id", name=op.f("uq_users_scaikey_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=False)

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("scaikey_id", sa.String(length=100), nullable=True),
        sa.Column("settings", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_tenants_partner_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("scaikey_id", name=op.f("uq_tenants_scaikey_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenants_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("environment", sa.String(length=8), nullable=False),
        sa.Column("scopes", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("last_used_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("expires_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "asm_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asm_groups_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asm_groups")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_asm_groups_tenant_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_batches_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "daily_stats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("bounce_drops", sa.Integer(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("spam_reports", sa.Integer(), nullable=False),
        sa.Column("spam_report_drops", sa.Integer(), nullable=False),
        sa.Column("unsubscribes", sa.Integer(), nullable=False),
        sa.Column("unsubscribe_drops", sa.Integer(), nullable=False),
        sa.Column("invalid_emails", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("unique_opens", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_clicks", sa.Integer(), nullable=False),
        sa.Column("deferred", sa.Integer(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_daily_stats_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_stats")),
        sa.UniqueConstraint("tenant_id", "date", "category", name="uq_daily_stats_key"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "event_webhook_settings",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("events", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("private_key_encrypted", sa.Text(), nullable=True),
        sa.Column("oauth_client_id", sa.String(length=255), nullable=True),
        sa.Column("oauth_client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("oauth_token_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_event_webhook_settings_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_event_webhook_settings")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "images",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("alt_text", sa.String(length=1000), nullable=True),
        sa.Column("folder", sa.String(length=255), nullable=True),
        sa.Column("deleted_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_images_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_images_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "roles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_roles_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_roles_tenant_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "send_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_send_requests_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_requests")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("send_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_send_requests_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "sender_domains",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("dmarc_policy", sa.String(length=16), nullable=False),
        sa.Column("dmarc_rua_email", sa.String(length=320), nullable=True),
        sa.Column("active_selector", sa.String(length=63), nullable=False),
        sa.Column("dkim_verified", sa.Boolean(), nullable=False),
        sa.Column("spf_verified", sa.Boolean(), nullable=False),
        sa.Column("dmarc_verified", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_verified_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sender_domains_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_domains")),
        sa.UniqueConstraint("tenant_id", "domain", name=op.f("uq_sender_domains_tenant_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("sender_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sender_domains_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.String(length=16), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_templates_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_templates_tenant_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_templates_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "tracking_settings",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("settings", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tracking_settings_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tracking_settings")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("enabled_events", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("signing_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("last_success_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("oauth_client_id", sa.String(length=255), nullable=True),
        sa.Column("oauth_client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("oauth_token_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_endpoints_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_endpoints_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "dkim_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("domain_id", sa.String(length=40), nullable=False),
        sa.Column("selector", sa.String(length=63), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["sender_domains.id"], name=op.f("fk_dkim_keys_domain_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dkim_keys")),
        sa.UniqueConstraint("domain_id", "selector", name=op.f("uq_dkim_keys_domain_id")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("api_key_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("from_name", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=1000), nullable=True),
        sa.Column("to_emails", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("personalization", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("asm_group_id", sa.Integer(), nullable=True),
        sa.Column("categories", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("custom_args", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("send_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_response", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("processed_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("sent_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["send_requests.id"], name=op.f("fk_messages_request_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_messages_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_messages_tenant_batch", ["tenant_id", "batch_id"], unique=False)
        batch_op.create_index("ix_messages_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index("ix_messages_tenant_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "role_permissions",
        sa.Column("role_id", sa.String(length=40), nullable=False),
        sa.Column("permission_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_id"], ["permissions.id"], name=op.f("fk_role_permissions_permission_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_role_permissions_role_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("role_id", "permission_id", name=op.f("pk_role_permissions")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bounce_type", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["asm_groups.id"], name=op.f("fk_suppressions_group_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_suppressions_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index("ix_suppressions_list", ["tenant_id", "kind", "created_at"], unique=False)
        batch_op.create_index("ix_suppressions_lookup", ["tenant_id", "email", "kind"], unique=False)

    op.create_table(
        "template_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("template_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=True),
        sa.Column("preheader", sa.String(length=500), nullable=True),
        sa.Column("html_content", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("plain_content", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("editor", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"], ["templates.id"], name=op.f("fk_template_versions_template_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_template_versions_template_id"), ["template_id"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("role_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_user_roles_tenant_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_roles")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_roles_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("event_ids", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", scaisend.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_deliveries_tenant_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        **MYSQL_TABLE_OPTIONS,
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_status", ["status", "updated_at"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_tenant_created", ["tenant_id", "created_at"], unique=False)

    op.create_table(
        "message_contents",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("mime", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"), nullable=False),
        sa.Column("created_at", scaisend.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_contents_message_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_contents")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; MySQL refuses to drop an index a foreign key still needs.
    op.drop_table("message_contents")
    op.drop_table("webhook_deliveries")
    op.drop_table("user_roles")
    op.drop_table("template_versions")
    op.drop_table("suppressions")
    op.drop_table("role_permissions")
    op.drop_table("messages")
    op.drop_table("dkim_keys")
    op.drop_table("webhook_endpoints")
    op.drop_table("tracking_settings")
    op.drop_table("templates")
    op.drop_table("sender_domains")
    op.drop_table("send_requests")
    op.drop_table("roles")
    op.drop_table("images")
    op.drop_table("event_webhook_settings")
    op.drop_table("daily_stats")
    op.drop_table("batches")
    op.drop_table("asm_groups")
    op.drop_table("api_keys")
    op.drop_table("tenants")
    op.drop_table("users")
    op.drop_table("permissions")
    op.drop_table("partners")
    op.drop_table("email_events")
