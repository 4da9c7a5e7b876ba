"""Suppression lists (docs/suppressions.md, docs/compose.md): bounces (with the SendGrid ``blocks`` view of ``bounce_type: block``), spam
reports and global unsubscribes. Functions flush, never commit.

Addresses are stored lowercase and compared case-insensitively. Bounces may hold several rows per address (one per
bounce); spam reports and unsubscribes hold at most one, so adding one twice is a no-op. ASM groups live in
:mod:`scaisend.suppressions.groups`.

The pipeline's entry points are :func:`add_bounce` (delivery and inbound DSNs), :func:`add_spam_report` (inbound FBL)
and :func:`add_unsubscribes` (tracking's unsubscribe link); the API adds, lists and deletes through the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.clock import utcnow
from scaisend.errors import BadRequestError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Suppression, SuppressionKind
from scaisend.suppressions import repository
from scaisend.suppressions.csv_import import ImportRow, ParsedImport, RowError

logger = logging.getLogger(__name__)

BOUNCE_TYPES: tuple[str, ...] = ("hard", "soft", "block")


class InvalidEmailError(BadRequestError):
    def __init__(self, email: str) -> None:
        super().__init__(f"Invalid email address: {email!r}")


@dataclass(frozen=True)
class ListView:
    """One list as the API shows it: a kind, and for the blocks view the ``block`` bounce type."""

    name: str
    kind: SuppressionKind
    bounce_type: str | None = None

    def selector(self, tenant_id: str) -> repository.Selector:
        return repository.Selector(tenant_id, self.kind, bounce_type=self.bounce_type)


BOUNCES = ListView("bounces", SuppressionKind.BOUNCE)
BLOCKS = ListView("blocks", SuppressionKind.BOUNCE, bounce_type="block")
SPAM_REPORTS = ListView("spam_reports", SuppressionKind.SPAM_REPORT)
UNSUBSCRIBES = ListView("unsubscribes", SuppressionKind.UNSUBSCRIBE)


@dataclass(frozen=True)
class ListQuery:
    """``limit`` + ``offset`` pagination and the filters of every list (docs/sending.md, D3, D24): ``start_time``/``end_time``
    are inclusive Unix seconds on ``created``; ``email`` is SendGrid's prefix match (``%`` a wildcard)."""

    limit: int = 50
    offset: int = 0
    start_time: int | None = None
    end_time: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped: int
    errors: list[RowError]


# --- addresses -------------------------------------------------------------------------------------------------------
def normalize_email(email: str) -> str:
    """The stored form of an address given by a user: validated syntax, lowercase. 400 when it is not an address.
    Like mail/send's validation, the special-use ``.test`` domain is accepted."""
    text = email.strip()
    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise InvalidEmailError(email) from None
    return text.lower()


def normalize_emails(emails: Iterable[str]) -> list[str]:
    """Each address validated and lowercased, duplicates removed, order kept."""
    return list(dict.fromkeys(normalize_email(e) for e in emails))


def lookup_email(email: str) -> str:
    """The form used to look an address up (path parameters): lowercase, not validated."""
    return email.strip().lower()


# --- adding ----------------------------------------------------------------------------------------------------------
def _row(tenant_id: str, kind: SuppressionKind, email: str, *, now: datetime | None, **fields: object) -> Suppression:
    at = now or utcnow()
    return Suppression(
        id=new_id("sup"), tenant_id=tenant_id, kind=kind.value, email=email, created_at=at, updated_at=at, **fields
    )


async def add_bounce(
    session: AsyncSession,
    tenant_id: str,
    email: str,
    reason: str | None,
    bounce_type: str,
    status: str | None,
    message_id: str | None,
    *,
    now: datetime | None = None,
) -> Suppression:
    """Add a bounce row (``bounce_type`` hard, soft or block). An address may bounce several times; each bounce is
    its own row. The address is taken as the pipeline saw it, lowercased. Idempotent per message: a re-run
    delivery job that bounces the same address of the same ``message_id`` again gets the existing row back."""
    if bounce_type not in BOUNCE_TYPES:
        raise BadRequestError(f"Invalid bounce_type: {bounce_type!r} (use one of: {', '.join(BOUNCE_TYPES)})")
    address = lookup_email(email)
    if message_id is not None:
        rows = await repository.by_email(session, BOUNCES.selector(tenant_id), address)
        earlier = next((r for r in rows if r.message_id == message_id), None)
        if earlier is not None:
            return earlier
    row = _row(
        tenant_id,
        SuppressionKind.BOUNCE,
        address,
        now=now,
        reason=reason,
        bounce_type=bounce_type,
        status=status,
        message_id=message_id,
    )
    session.add(row)
    await session.flush()
    logger.info("bounce suppressed", extra={"bounce_type": bounce_type, "suppression_id": row.id})
    return row


async def add_missing(
    session: AsyncSession,
    tenant_id: str,
    kind: SuppressionKind,
    emails: Sequence[str],
    *,
    now: datetime | None,
    group_id: int | None = None,
    **fields: object,
) -> list[Suppression]:
    """Add rows for the addresses of ``emails`` (lowercase) not on the list yet (of ``group_id`` for group
    unsubscribes); the rows added."""
    selector = repository.Selector(tenant_id, kind, group_id=group_id)
    present = await repository.emails_present(session, selector, emails)
    rows = [
        _row(tenant_id, kind, e, now=now, group_id=group_id, **fields)
        for e in dict.fromkeys(emails)
        if e not in present
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def add_spam_report(
    session: AsyncSession,
    tenant_id: str,
    email: str,
    reason: str | None = None,
    message_id: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Put an address on the spam report list; ``False`` when it was there already."""
    rows = await add_missing(
        session,
        tenant_id,
        SuppressionKind.SPAM_REPORT,
        [lookup_email(email)],
        now=now,
        reason=reason,
        message_id=message_id,
    )
    return bool(rows)


async def add_unsubscribes(
    session: AsyncSession,
    tenant_id: str,
    emails: Sequence[str],
    message_id: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Put addresses (already normalized or from the pipeline) on the global unsubscribe list; how many were new."""
    rows = await add_missing(
        session,
        tenant_id,
        SuppressionKind.UNSUBSCRIBE,
        [lookup_email(e) for e in emails],
        now=now,
        message_id=message_id,
    )
    return len(rows)


async def import_rows(
    session: AsyncSession, tenant_id: str, view: ListView, parsed: ParsedImport, *, now: datetime | None = None
) -> ImportResult:
    """Add parsed CSV rows to a bounce or spam report list. An invalid address is an error for its row; addresses
    already on the list, or repeated in the file, are skipped; imported bounces are ``hard``."""
    errors = list(parsed.errors)
    fresh: dict[str, ImportRow] = {}
    valid = 0
    for row in parsed.rows:
        try:
            email = normalize_email(row.email)
        except InvalidEmailError as exc:
            errors.append(RowError(row.row, exc.detail))
            continue
        valid += 1
        fresh.setdefault(email, row)
    present = await repository.emails_present(session, view.selector(tenant_id), list(fresh))
    extra = {"bounce_type": "hard"} if view.kind is SuppressionKind.BOUNCE else {}
    added = [
        _row(tenant_id, view.kind, email, now=now, reason=row.reason, **extra)
        for email, row in fresh.items()
        if email not in present
    ]
    session.add_all(added)
    await session.flush()
    logger.info("suppressions imported", extra={"list": view.name, "imported": len(added)})
    return ImportResult(imported=len(added), skipped=valid - len(added), errors=sorted(errors, key=lambda e: e.row))


# --- reading ---------------------------------------------------------------------------------------------------------
def _from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def list_entries(
    session: AsyncSession, tenant_id: str, view: ListView, query: ListQuery
) -> tuple[list[Suppression], int]:
    """One page of a list, newest first, and the total matching the filters."""
    if query.start_time is not None and query.end_time is not None and query.start_time > query.end_time:
        raise BadRequestError("start_time must not be after end_time")
    return await repository.page(
        session,
        view.selector(tenant_id),
        created_from=None if query.start_time is None else _from_unix(query.start_time),
        created_before=None if query.end_time is None else _from_unix(query.end_time + 1),
        email_prefix=query.email,
        limit=query.limit,
        offset=query.offset,
    )


async def get_entries(session: AsyncSession, tenant_id: str, view: ListView, email: str) -> list[Suppression]:
    """Every row of one address on a list; 404 when it is not on it."""
    rows = await repository.by_email(session, view.selector(tenant_id), lookup_email(email))
    if not rows:
        raise NotFoundError(f"Email not found on the {view.name} list: {email}")
    return rows


# --- removing --------------------------------------------------------------------------------------------------------
async def delete_entry(session: AsyncSession, tenant_id: str, view: ListView, email: str) -> None:
    """Take an address off a list, so sends to it are allowed again; 404 when it is not on it."""
    if not await repository.delete_rows(session, view.selector(tenant_id), [lookup_email(email)]):
        raise NotFoundError(f"Email not found on the {view.name} list: {email}")


def bulk_delete_target(
    query_delete_all: bool | None, body_delete_all: bool | None, body_emails: list[str] | None
) -> list[str] | None:
    """What a bulk DELETE removes: ``None`` for everything, else the (lowercased) addresses. Everything needs
    ``delete_all=true`` (query string or SendGrid's JSON body); addresses come as ``{"emails": [...]}``; asking
    for both, or for neither, is a 400."""
    delete_all = query_delete_all is True or body_delete_all is True
    if body_emails is not None and (delete_all or body_delete_all is not None or query_delete_all is not None):
        raise BadRequestError("Use either delete_all or emails, not both")
    if body_emails is not None:
        if not body_emails:
            raise BadRequestError("emails must not be empty")
        return [lookup_email(e) for e in body_emails]
    if not delete_all:
        raise BadRequestError('delete_all=true is required to delete the whole list (or send {"emails": [...]})')
    return None


async def bulk_delete(session: AsyncSession, tenant_id: str, view: ListView, emails: list[str] | None) -> int:
    deleted = await repository.delete_rows(session, view.selector(tenant_id), emails)
    logger.info("suppressions deleted", extra={"list": view.name, "deleted": deleted, "all": emails is None})
    return deleted
