"""Request and response shapes of ``/v3/api_keys`` and ``/v3/scopes`` (docs/sending.md, D3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    environment: Literal["live", "test"] = "live"
    scopes: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None


class ApiKeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    scopes: list[str] | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    environment: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    api_key: str
    prefix: str
    environment: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]


class ScopeList(BaseModel):
    scopes: list[str]
