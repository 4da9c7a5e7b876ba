"""Identity and administration (issue 11): partner admins, users' home tenant, groups with nested-group role
mappings, sign-in refresh tokens, and the ids of applied ScaiKey identity events.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from scaisend.db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("tenant_id", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_tenant_id"), "tenants", ["tenant_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "partner_admins",
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_admins_partner_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_partner_admins_user_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partner_id", "user_id", name=op.f("pk_partner_admins")),
    )
    op.create_index(op.f("ix_partner_admins_user_id"), "partner_admins", ["user_id"], unique=False)
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("scaikey_id", sa.String(length=100), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["parent_id"], ["groups.id"], name=op.f("fk_groups_parent_id"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_groups_tenant_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("scaikey_id", name=op.f("uq_groups_scaikey_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_groups_tenant_id")),
    )
    op.create_index(op.f("ix_groups_parent_id"), "groups", ["parent_id"], unique=False)
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_members_group_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_group_members_user_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_user_id"), "group_members", ["user_id"], unique=False)
    op.create_table(
        "group_roles",
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("role_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_group_roles_group_id"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], name=op.f("fk_group_roles_role_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "role_id", name=op.f("pk_group_roles")),
    )
    op.create_index(op.f("ix_group_roles_role_id"), "group_roles", ["role_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("provider_refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_refresh_tokens_tenant_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "identity_events",
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_identity_events")),
    )
    op.create_index(op.f("ix_identity_events_received_at"), "identity_events", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("identity_events")
    op.drop_table("refresh_tokens")
    op.drop_table("group_roles")
    op.drop_table("group_members")
    op.drop_table("groups")
    op.drop_table("partner_admins")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_tenant_id"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))
        batch_op.drop_column("tenant_id")
