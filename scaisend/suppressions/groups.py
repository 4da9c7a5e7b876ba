"""ASM suppression groups and their per-group unsubscribe lists (docs/suppressions.md, docs/compose.md; SendGrid ``/v3/asm/groups``).
Functions flush, never commit.

Group names are unique per tenant (409 otherwise); at most one group is the default, so making one the default
clears the flag on the others. Deleting a group deletes its unsubscribes. Addresses are stored lowercase.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import ConflictError, NotFoundError
from scaisend.models import AsmGroup, Suppression, SuppressionKind
from scaisend.suppressions import repository
from scaisend.suppressions.service import add_missing, lookup_email

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupCounted:
    group: AsmGroup
    unsubscribes: int


@dataclass(frozen=True)
class Membership:
    email: str
    group_id: int
    group_name: str
    created_at: datetime


def _selector(tenant_id: str, group_id: int) -> repository.Selector:
    return repository.Selector(tenant_id, SuppressionKind.GROUP_UNSUBSCRIBE, group_id=group_id)


async def list_groups(session: AsyncSession, tenant_id: str, ids: Sequence[int] | None = None) -> list[GroupCounted]:
    rows = await repository.groups(session, tenant_id, ids)
    counts = await repository.unsubscribe_counts(session, tenant_id, [g.id for g in rows])
    return [GroupCounted(g, counts.get(g.id, 0)) for g in rows]


async def get_group(session: AsyncSession, tenant_id: str, group_id: int) -> AsmGroup:
    """The tenant's group; 404 when it has none with this id (another tenant's id included)."""
    row = await repository.group(session, tenant_id, group_id)
    if row is None:
        raise NotFoundError(f"Suppression group not found: {group_id}")
    return row


async def count_unsubscribes(session: AsyncSession, group: AsmGroup) -> int:
    return (await repository.unsubscribe_counts(session, group.tenant_id, [group.id])).get(group.id, 0)


async def _check_name_free(session: AsyncSession, tenant_id: str, name: str, own_id: int | None = None) -> None:
    other = await repository.group_named(session, tenant_id, name)
    if other is not None and other.id != own_id:
        raise ConflictError(f"A suppression group named {name!r} already exists")


async def create_group(
    session: AsyncSession, tenant_id: str, name: str, description: str = "", is_default: bool = False
) -> AsmGroup:
    await _check_name_free(session, tenant_id, name)
    row = AsmGroup(tenant_id=tenant_id, name=name, description=description, is_default=is_default)
    session.add(row)
    await session.flush()
    if is_default:
        await repository.clear_default(session, tenant_id, row.id)
    logger.info("suppression group created", extra={"group_id": row.id})
    return row


async def update_group(
    session: AsyncSession,
    group: AsmGroup,
    *,
    name: str | None = None,
    description: str | None = None,
    is_default: bool | None = None,
) -> AsmGroup:
    """Change the given fields; ``None`` leaves a field as it is."""
    if name is not None and name != group.name:
        await _check_name_free(session, group.tenant_id, name, group.id)
        group.name = name
    if description is not None:
        group.description = description
    if is_default is not None:
        group.is_default = is_default
        if is_default:
            await repository.clear_default(session, group.tenant_id, group.id)
    await session.flush()
    return group


async def delete_group(session: AsyncSession, group: AsmGroup) -> None:
    await session.execute(delete(Suppression).where(*_selector(group.tenant_id, group.id).where()))
    await session.delete(group)
    await session.flush()
    logger.info("suppression group deleted", extra={"group_id": group.id})


# --- per-group unsubscribes ------------------------------------------------------------------------------------------
async def add_group_unsubscribes(
    session: AsyncSession,
    group: AsmGroup,
    emails: Sequence[str],
    message_id: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Opt addresses out of one group (the API's normalized addresses, or the tracking landing page's); how many
    were not opted out already."""
    rows = await add_missing(
        session,
        group.tenant_id,
        SuppressionKind.GROUP_UNSUBSCRIBE,
        [lookup_email(e) for e in emails],
        now=now,
        group_id=group.id,
        message_id=message_id,
    )
    return len(rows)


async def remove_group_unsubscribe(session: AsyncSession, group: AsmGroup, email: str) -> bool:
    """Opt an address back in (a resubscribe); ``False`` when it was not opted out."""
    return bool(await repository.delete_rows(session, _selector(group.tenant_id, group.id), [lookup_email(email)]))


async def group_emails(session: AsyncSession, group: AsmGroup) -> list[str]:
    """The group's opted-out addresses, newest first."""
    return await repository.emails(session, _selector(group.tenant_id, group.id))


async def search_group(session: AsyncSession, group: AsmGroup, emails: Sequence[str]) -> list[str]:
    """The addresses of ``emails`` that are opted out of the group, in the order given."""
    wanted = [lookup_email(e) for e in emails]
    present = await repository.emails_present(session, _selector(group.tenant_id, group.id), wanted)
    return [e for e in dict.fromkeys(wanted) if e in present]


async def memberships(session: AsyncSession, tenant_id: str) -> list[Membership]:
    """Every group unsubscribe of the tenant (SendGrid ``GET /v3/asm/suppressions``)."""
    return [
        Membership(s.email, g.id, g.name, s.created_at)
        for s, g in await repository.group_memberships(session, tenant_id)
    ]
