"""Applying ScaiKey identity events to the local mirror (docs/observability.md, docs/deploy.md, D54): partners, tenants, users, groups and group
memberships. Ids in events are ScaiKey ids (``scaikey_id`` here). Each event id is recorded in ``identity_events`` in
the same transaction as its changes, so a redelivery is acknowledged without being applied twice.

Event types: ``partner.created|updated|deleted``, ``tenant.created|updated|suspended|activated|deleted`` (a deleted
tenant is suspended, never deleted: its mail, stats and keys stay for the operator), ``user.created|updated|deleted``,
``group.created|updated|deleted``, ``group_membership.created|deleted`` (also ``added``/``removed``). Anything else is
acknowledged and counted as ``ignored``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError
from scaisend.ids import new_id
from scaisend.models import Group, IdentityEvent, Partner, Tenant, User
from scaisend.tenants import users
from scaisend.tenants.naming import slugify
from scaisend.tenants.service import create_tenant, set_suspended

FAMILIES = ("partner", "tenant", "user", "group", "group_membership")
KEEP_EVENT_IDS = timedelta(days=1)  # far beyond the 5-minute replay window


@dataclass(frozen=True)
class Applied:
    family: str  # a member of FAMILIES or "unknown"
    outcome: str  # applied | duplicate | ignored
    reason: str = ""


@dataclass(frozen=True)
class IdentityEventIn:
    event_id: str
    event_type: str
    data: dict[str, Any]
    tenant_id: str | None
    partner_id: str | None

    @classmethod
    def parse(cls, body: Any) -> IdentityEventIn:
        if not isinstance(body, dict):
            raise BadRequestError("The event must be a JSON object")
        event_id, event_type = body.get("event_id"), body.get("event_type")
        if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
            raise BadRequestError("event_id is required (at most 100 characters)")
        if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
            raise BadRequestError("event_type is required")
        data = body.get("data")
        data = data if isinstance(data, dict) else {}
        tenant_id, partner_id = body.get("tenant_id"), body.get("partner_id")
        return cls(
            event_id,
            event_type,
            data,
            tenant_id if isinstance(tenant_id, str) else None,
            partner_id if isinstance(partner_id, str) else None,
        )

    @property
    def family(self) -> str:
        family, _, _action = self.event_type.rpartition(".")
        return family if family in FAMILIES else "unknown"

    @property
    def action(self) -> str:
        return self.event_type.rpartition(".")[2]

    def text(self, name: str, limit: int = 255) -> str | None:
        value = self.data.get(name)
        return value.strip()[:limit] if isinstance(value, str) and value.strip() else None

    @property
    def resource_id(self) -> str | None:
        return self.text("id", 100)


async def _by_scaikey(session: AsyncSession, model: Any, scaikey_id: str | None) -> Any:
    if not scaikey_id:
        return None
    return await session.scalar(select(model).where(model.scaikey_id == scaikey_id))


async def _free_slug(session: AsyncSession, model: Any, wanted: str, scaikey_id: str) -> str:
    if await session.scalar(select(model.id).where(model.slug == wanted)) is None:
        return wanted
    return f"{wanted[:60]}-{slugify(scaikey_id)[-16:]}"


async def _partner(session: AsyncSession, event: IdentityEventIn) -> str:
    scaikey_id = event.resource_id or event.partner_id
    if not scaikey_id:
        raise BadRequestError("partner events need data.id")
    partner = await _by_scaikey(session, Partner, scaikey_id)
    if event.action == "deleted":
        if partner is not None:
            await session.delete(partner)
        return ""
    name = event.text("name") or (partner.name if partner else scaikey_id)
    if partner is None:
        slug = await _free_slug(session, Partner, event.text("slug", 100) or slugify(name, "partner"), scaikey_id)
        session.add(Partner(id=new_id("prt"), name=name, slug=slug, scaikey_id=scaikey_id))
    else:
        partner.name = name
    return ""


async def _tenant(session: AsyncSession, event: IdentityEventIn) -> str:
    scaikey_id = event.resource_id or event.tenant_id
    if not scaikey_id:
        raise BadRequestError("tenant events need data.id")
    tenant: Tenant | None = await _by_scaikey(session, Tenant, scaikey_id)
    partner_ref = event.text("partner_id", 100) or event.partner_id
    partner = await _by_scaikey(session, Partner, partner_ref)
    if tenant is None:
        if event.action in ("deleted", "suspended"):
            return "unknown tenant"
        name = event.text("name") or scaikey_id
        slug = await _free_slug(session, Tenant, event.text("slug", 100) or slugify(name), scaikey_id)
        tenant = await create_tenant(
            session, name, slug=slug, partner_id=partner.id if partner else None, scaikey_id=scaikey_id
        )
    elif event.text("name"):
        tenant.name = event.text("name") or tenant.name
    if partner is not None:
        tenant.partner_id = partner.id
    status = event.text("status", 32)
    if event.action in ("suspended", "deleted") or status in ("suspended", "deleted", "inactive"):
        await set_suspended(session, tenant, True)
    elif event.action in ("activated", "resumed", "reactivated") or status == "active":
        await set_suspended(session, tenant, False)
    return ""


async def _user(session: AsyncSession, event: IdentityEventIn) -> str:
    scaikey_id = event.resource_id
    if not scaikey_id:
        raise BadRequestError("user events need data.id")
    if event.action == "deleted":
        user: User | None = await _by_scaikey(session, User, scaikey_id)
        if user is not None:
            await session.delete(user)
        return ""
    tenant: Tenant | None = await _by_scaikey(session, Tenant, event.text("tenant_id", 100) or event.tenant_id)
    profile = {name: event.text(name, 320 if name == "email" else 255) for name in users.PROFILE_FIELDS}
    await users.upsert_scaikey_user(session, scaikey_id, profile, tenant.id if tenant else None, move=True)
    return ""


async def _group(session: AsyncSession, event: IdentityEventIn) -> str:
    scaikey_id = event.resource_id
    if not scaikey_id:
        raise BadRequestError("group events need data.id")
    group: Group | None = await _by_scaikey(session, Group, scaikey_id)
    if event.action == "deleted":
        if group is not None:
            await session.delete(group)
        return ""
    tenant: Tenant | None = await _by_scaikey(session, Tenant, event.text("tenant_id", 100) or event.tenant_id)
    if group is None:
        if tenant is None:
            return "unknown tenant"
        group = await users.create_group(session, tenant.id, event.text("name") or scaikey_id, scaikey_id=scaikey_id)
    elif event.text("name"):
        group.name = event.text("name") or group.name
    if "parent_id" in event.data:
        parent = await _by_scaikey(session, Group, event.text("parent_id", 100))
        await users.set_parent(
            session, group, parent if parent is not None and parent.tenant_id == group.tenant_id else None
        )
    return ""


async def _membership(session: AsyncSession, event: IdentityEventIn) -> str:
    group: Group | None = await _by_scaikey(session, Group, event.text("group_id", 100))
    user: User | None = await _by_scaikey(session, User, event.text("user_id", 100))
    if group is None or user is None:
        return "unknown group or user"
    if event.action in ("deleted", "removed"):
        await users.remove_member(session, group, user)
    elif event.action in ("created", "added", "updated"):
        await users.add_member(session, group, user)
    else:
        return f"unknown action {event.action}"
    return ""


_HANDLERS = {
    "partner": (_partner, ("created", "updated", "deleted")),
    "tenant": (_tenant, ("created", "updated", "suspended", "activated", "resumed", "reactivated", "deleted")),
    "user": (_user, ("created", "updated", "deleted")),
    "group": (_group, ("created", "updated", "deleted")),
    "group_membership": (_membership, ("created", "added", "updated", "deleted", "removed")),
}


async def apply_event(session: AsyncSession, event: IdentityEventIn, now: datetime) -> Applied:
    """Record the event id, then apply the event; a known id is ``duplicate`` and changes nothing."""
    await session.execute(delete(IdentityEvent).where(IdentityEvent.received_at < now - KEEP_EVENT_IDS))
    if await session.get(IdentityEvent, event.event_id) is not None:
        return Applied(event.family, "duplicate")
    try:
        async with session.begin_nested():
            session.add(IdentityEvent(event_id=event.event_id, event_type=event.event_type, received_at=now))
    except IntegrityError:  # the same event delivered twice at once: the other delivery applies it
        return Applied(event.family, "duplicate")
    handler = _HANDLERS.get(event.family)
    if handler is None or event.action not in handler[1]:
        return Applied(event.family, "ignored", f"unknown event type {event.event_type}")
    reason = await handler[0](session, event)
    await session.flush()
    return Applied(event.family, "ignored" if reason else "applied", reason)
