"""Request and response shapes of the identity admin routes (docs/identity.md, docs/domains.md, docs/compose.md); responses are wrapped in ``{"data": …}``
by the routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    scaikey_id: str | None
    name: str
    slug: str


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    scaikey_id: str | None
    name: str
    slug: str
    partner_id: str | None
    settings: dict[str, Any]
    suspended: bool
    created_at: datetime


class TenantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    settings: dict[str, Any] | None = None


class PermissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    category: str
    description: str


class RoleOut(BaseModel):
    id: str
    name: str
    description: str
    permissions: list[str] | None = None


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=255)
    permissions: list[str] = Field(default_factory=list)


class RolePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=255)
    permissions: list[str] | None = None


class HeldRoleOut(BaseModel):
    id: str
    name: str
    via: str


class UserOut(BaseModel):
    id: str
    scaikey_id: str | None
    email: str
    first_name: str | None
    last_name: str | None
    display_name: str | None
    tenant_id: str | None
    roles: list[HeldRoleOut] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    display_name: str | None = Field(None, max_length=255)
    scaikey_id: str | None = Field(None, max_length=100)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    display_name: str | None = Field(None, max_length=255)


class GroupOut(BaseModel):
    id: str
    scaikey_id: str | None
    name: str
    parent_id: str | None
    members: list[str]
    roles: list[str]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    parent_id: str | None = None


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    parent_id: str | None = Field(None, description='a group id, or "" to move the group to the top')
