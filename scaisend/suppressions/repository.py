"""Queries over ``suppressions`` and ``asm_groups`` (docs/suppressions.md). Plain async functions; the tenant id is always an
explicit argument and every statement filters on it. Addresses are stored lowercase, so callers pass lowercase
addresses and equality is enough."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import AsmGroup, Suppression, SuppressionKind

_IN_CHUNK = 500  # keeps IN (...) lists and their bound parameters small


@dataclass(frozen=True)
class Selector:
    """Which rows of one tenant's suppressions a statement touches: one kind, optionally one bounce type (the
    blocks view) or one ASM group."""

    tenant_id: str
    kind: SuppressionKind
    bounce_type: str | None = None
    group_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses = [Suppression.tenant_id == self.tenant_id, Suppression.kind == self.kind.value]
        if self.bounce_type is not None:
            clauses.append(Suppression.bounce_type == self.bounce_type)
        if self.group_id is not None:
            clauses.append(Suppression.group_id == self.group_id)
        return clauses


def _like_prefix(text: str) -> str:
    """SendGrid's ``email`` filter: a prefix match in which ``%`` is a wildcard; ``_`` and ``\\`` are literal."""
    escaped = text.lower().replace("\\", "\\\\").replace("_", "\\_")
    return f"{escaped}%"


async def page(
    session: AsyncSession,
    selector: Selector,
    *,
    created_from: datetime | None,
    created_before: datetime | None,
    email_prefix: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Suppression], int]:
    """One page of rows, newest first, and the number of rows matching the filters."""
    clauses = selector.where()
    if created_from is not None:
        clauses.append(Suppression.created_at >= created_from)
    if created_before is not None:
        clauses.append(Suppression.created_at < created_before)
    if email_prefix:
        clauses.append(Suppression.email.like(_like_prefix(email_prefix), escape="\\"))
    total = await session.scalar(select(func.count()).select_from(Suppression).where(*clauses))
    rows = await session.scalars(
        select(Suppression)
        .where(*clauses)
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def by_email(session: AsyncSession, selector: Selector, email: str) -> list[Suppression]:
    rows = await session.scalars(
        select(Suppression)
        .where(*selector.where(), Suppression.email == email)
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
    )
    return list(rows)


async def emails(session: AsyncSession, selector: Selector) -> list[str]:
    """The selected addresses, newest first."""
    rows = await session.scalars(
        select(Suppression.email)
        .where(*selector.where())
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
    )
    return list(rows)


async def emails_present(session: AsyncSession, selector: Selector, emails: Sequence[str]) -> set[str]:
    """The addresses of ``emails`` that already have a row."""
    wanted = sorted(set(emails))
    found: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        found.update(
            await session.scalars(
                select(Suppression.email).distinct().where(*selector.where(), Suppression.email.in_(chunk))
            )
        )
    return found


async def delete_rows(session: AsyncSession, selector: Selector, emails: Sequence[str] | None = None) -> int:
    """Delete the selected rows (only those of ``emails`` when given); the number of rows deleted."""
    if emails is None:
        result = await session.execute(delete(Suppression).where(*selector.where()))
        return int(result.rowcount)  # type: ignore[attr-defined]
    wanted = sorted(set(emails))
    deleted = 0
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        result = await session.execute(delete(Suppression).where(*selector.where(), Suppression.email.in_(chunk)))
        deleted += int(result.rowcount)  # type: ignore[attr-defined]
    return deleted


async def group_memberships(session: AsyncSession, tenant_id: str) -> list[tuple[Suppression, AsmGroup]]:
    """Every group unsubscribe of the tenant with its group, newest first."""
    rows = await session.execute(
        select(Suppression, AsmGroup)
        .join(AsmGroup, AsmGroup.id == Suppression.group_id)
        .where(
            Suppression.tenant_id == tenant_id,
            AsmGroup.tenant_id == tenant_id,
            Suppression.kind == SuppressionKind.GROUP_UNSUBSCRIBE.value,
        )
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
    )
    return [(s, g) for s, g in rows]


# --- ASM groups ------------------------------------------------------------------------------------------------------
async def groups(session: AsyncSession, tenant_id: str, ids: Sequence[int] | None = None) -> list[AsmGroup]:
    stmt = select(AsmGroup).where(AsmGroup.tenant_id == tenant_id)
    if ids:
        stmt = stmt.where(AsmGroup.id.in_(list(ids)))
    return list(await session.scalars(stmt.order_by(AsmGroup.id)))


async def group(session: AsyncSession, tenant_id: str, group_id: int) -> AsmGroup | None:
    return await session.scalar(select(AsmGroup).where(AsmGroup.tenant_id == tenant_id, AsmGroup.id == group_id))


async def group_named(session: AsyncSession, tenant_id: str, name: str) -> AsmGroup | None:
    return await session.scalar(select(AsmGroup).where(AsmGroup.tenant_id == tenant_id, AsmGroup.name == name))


async def unsubscribe_counts(session: AsyncSession, tenant_id: str, group_ids: Sequence[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = await session.execute(
        select(Suppression.group_id, func.count())
        .where(
            Suppression.tenant_id == tenant_id,
            Suppression.kind == SuppressionKind.GROUP_UNSUBSCRIBE.value,
            Suppression.group_id.in_(list(group_ids)),
        )
        .group_by(Suppression.group_id)
    )
    return {int(gid): int(n) for gid, n in rows if gid is not None}


async def clear_default(session: AsyncSession, tenant_id: str, keep_id: int) -> None:
    """Unset ``is_default`` on every other group of the tenant (one default group at a time)."""
    await session.execute(
        update(AsmGroup)
        .where(AsmGroup.tenant_id == tenant_id, AsmGroup.id != keep_id, AsmGroup.is_default.is_(True))
        .values(is_default=False)
    )
