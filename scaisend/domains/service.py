"""Sender domains (docs/domains.md, docs/identity.md, docs/compose.md, docs/runbooks.md, D14): add, read, verify, rotate DKIM, update, delete, and the two
lookups the send pipeline uses (:func:`sending_domain`, :func:`signing_key`). Functions flush, never commit.

DKIM rotation: :func:`rotate_dkim` makes a key under the other selector (``scaisend`` ↔ ``scaisend2``). It stays
*pending*: the domain keeps signing, and stays verified, with the active selector until a verification sees the new
key published; that verification makes it active and deletes the old private key (the old DNS record should stay
published a few days for mail already in flight). Rotating again while a key is pending replaces the pending key.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.clock import utcnow
from scaisend.db.config_cache import ConfigCache
from scaisend.domains.dkim_keys import DkimKeyMissingError, decrypt_private_key, encrypt_private_key, generate_key_pair
from scaisend.domains.dns_records import DEFAULT_SELECTOR, DMARC_POLICIES, ROTATION_SELECTOR, next_selector
from scaisend.domains.verification import SelectorKey, VerificationReport, verify_records
from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import DkimKey, SenderDomain
from scaisend.resolver import Resolver
from scaisend.settings import Settings

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# the longest owner name we publish is scaisend2._domainkey.<domain>, and DNS names stop at 253 characters
_MAX_DOMAIN_LENGTH = 253 - len(f"{ROTATION_SELECTOR}._domainkey.")


class _Keep:
    """Type of :data:`KEEP`, the "leave this field alone" marker for :func:`update_domain`."""


KEEP: Final = _Keep()


# --- validation -----------------------------------------------------------------------------------------------------
def normalize_domain(name: str) -> str:
    """Lower-case, IDNA (punycode) form of a domain name; 400 when it is not a usable mail domain."""
    text = name.strip().lower().rstrip(".")
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadRequestError(f"Invalid domain name: {name!r}") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels) or labels[-1].isdigit():
        raise BadRequestError(f"Invalid domain name: {name!r}")
    if len(ascii_name) > _MAX_DOMAIN_LENGTH:
        raise BadRequestError(f"Domain name too long (max {_MAX_DOMAIN_LENGTH} characters): {name!r}")
    return ascii_name


def check_dmarc_policy(policy: str) -> str:
    if policy not in DMARC_POLICIES:
        raise BadRequestError(f"Invalid DMARC policy: {policy!r} (use one of: {', '.join(DMARC_POLICIES)})")
    return policy


def normalize_rua_email(email: str | None) -> str | None:
    """The address for DMARC aggregate reports (a ``mailto:`` prefix is accepted); ``None``/empty clears it."""
    if email is None or not email.strip():
        return None
    text = email.strip().removeprefix("mailto:")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadRequestError(f"Invalid dmarc_rua_email: {exc}") from None


# --- create and read ------------------------------------------------------------------------------------------------
async def _new_key(session: AsyncSession, settings: Settings, domain_id: str, selector: str) -> DkimKey:
    pair = await asyncio.to_thread(generate_key_pair)  # ~0.1 s of CPU: keep it off the event loop
    key = DkimKey(
        id=new_id("dkim"),
        domain_id=domain_id,
        selector=selector,
        public_key=pair.public_key_b64,
        private_key_encrypted=encrypt_private_key(settings.SECRET_KEY, pair.private_key_pem),
    )
    session.add(key)
    await session.flush()
    return key


async def add_domain(
    session: AsyncSession,
    settings: Settings,
    tenant_id: str,
    domain: str,
    dmarc_policy: str = "none",
    dmarc_rua_email: str | None = None,
) -> SenderDomain:
    """Create the domain and its first DKIM key (selector ``scaisend``); 400 on bad input, 409 on a duplicate."""
    name = normalize_domain(domain)
    policy = check_dmarc_policy(dmarc_policy)
    rua = normalize_rua_email(dmarc_rua_email)
    exists = await session.scalar(
        select(SenderDomain.id).where(SenderDomain.tenant_id == tenant_id, SenderDomain.domain == name)
    )
    if exists:
        raise ConflictError(f"Sender domain already exists: {name}")
    row = SenderDomain(
        id=new_id("dom"),
        tenant_id=tenant_id,
        domain=name,
        dmarc_policy=policy,
        dmarc_rua_email=rua,
        active_selector=DEFAULT_SELECTOR,
        dkim_verified=False,
        spf_verified=False,
        dmarc_verified=False,
        verified=False,
        is_active=True,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent add of the same name won the race
        raise ConflictError(f"Sender domain already exists: {name}") from None
    await _new_key(session, settings, row.id, DEFAULT_SELECTOR)
    return row


async def get_domain(session: AsyncSession, tenant_id: str, domain_id: str) -> SenderDomain:
    """The tenant's domain by id; 404 when missing or owned by another tenant."""
    row = await session.scalar(
        select(SenderDomain).where(SenderDomain.id == domain_id, SenderDomain.tenant_id == tenant_id)
    )
    if row is None:
        raise NotFoundError(f"Sender domain not found: {domain_id}")
    return row


async def find_domain(session: AsyncSession, tenant_id: str, id_or_domain: str) -> SenderDomain:
    """The tenant's domain by id or by name (the CLI accepts either); 404 when neither matches."""
    row = await session.scalar(
        select(SenderDomain).where(SenderDomain.id == id_or_domain, SenderDomain.tenant_id == tenant_id)
    )
    if row is None:
        try:
            name = normalize_domain(id_or_domain)
        except BadRequestError:
            name = None
        if name is not None:
            row = await session.scalar(
                select(SenderDomain).where(SenderDomain.domain == name, SenderDomain.tenant_id == tenant_id)
            )
    if row is None:
        raise NotFoundError(f"Sender domain not found: {id_or_domain}")
    return row


async def list_domains(session: AsyncSession, tenant_id: str) -> list[SenderDomain]:
    stmt = select(SenderDomain).where(SenderDomain.tenant_id == tenant_id).order_by(SenderDomain.domain)
    return list((await session.scalars(stmt)).all())


async def keys_by_domain(session: AsyncSession, domain_ids: list[str]) -> dict[str, list[DkimKey]]:
    """The DKIM keys of each domain (the active one and, during a rotation, the pending one)."""
    result: dict[str, list[DkimKey]] = {domain_id: [] for domain_id in domain_ids}
    if domain_ids:
        stmt = select(DkimKey).where(DkimKey.domain_id.in_(domain_ids)).order_by(DkimKey.selector)
        for key in (await session.scalars(stmt)).all():
            result[key.domain_id].append(key)
    return result


async def domain_keys(session: AsyncSession, row: SenderDomain) -> list[DkimKey]:
    return (await keys_by_domain(session, [row.id]))[row.id]


def _split_keys(row: SenderDomain, keys: list[DkimKey]) -> tuple[DkimKey, DkimKey | None]:
    active = next((k for k in keys if k.selector == row.active_selector), None)
    if active is None:
        raise DkimKeyMissingError(f"no DKIM key under selector {row.active_selector} for {row.domain}")
    return active, next((k for k in keys if k.selector != row.active_selector), None)


# --- verify, rotate, update, delete ---------------------------------------------------------------------------------
async def verify_domain(
    session: AsyncSession, settings: Settings, resolver: Resolver, row: SenderDomain, now: datetime
) -> VerificationReport:
    """Check DKIM, SPF and DMARC in DNS now and store the outcome (idempotent). A pending rotation key seen in DNS
    becomes the active selector, and the old private key is deleted."""
    keys = await domain_keys(session, row)
    active, pending = _split_keys(row, keys)
    report = await verify_records(
        resolver,
        row.domain,
        settings,
        SelectorKey(active.selector, active.public_key),
        SelectorKey(pending.selector, pending.public_key) if pending is not None else None,
    )
    if pending is not None and report.rotation is not None and report.rotation.passed:
        await session.delete(active)
        row.active_selector = pending.selector
        report = replace(report, dkim=replace(report.rotation, purpose="dkim"), rotation=None)
    row.dkim_verified = report.dkim.passed
    row.spf_verified = report.spf.passed
    row.dmarc_verified = report.dmarc.passed
    row.verified = report.verified
    row.last_verified_at = now
    await session.flush()
    return report


async def rotate_dkim(session: AsyncSession, settings: Settings, row: SenderDomain) -> DkimKey:
    """A new key pair under the other selector, pending until a verification sees it published."""
    selector = next_selector(row.active_selector)
    await session.execute(delete(DkimKey).where(DkimKey.domain_id == row.id, DkimKey.selector == selector))
    return await _new_key(session, settings, row.id, selector)


async def update_domain(
    session: AsyncSession,
    row: SenderDomain,
    *,
    is_active: bool | None = None,
    dmarc_policy: str | None = None,
    dmarc_rua_email: str | _Keep | None = KEEP,
) -> SenderDomain:
    """Change the fields given. Deactivating stops live sends from the domain (docs/runbooks.md) but keeps its keys;
    ``dmarc_rua_email=None`` clears the report address."""
    if dmarc_policy is not None:
        row.dmarc_policy = check_dmarc_policy(dmarc_policy)
    if not isinstance(dmarc_rua_email, _Keep):
        row.dmarc_rua_email = normalize_rua_email(dmarc_rua_email)
    if is_active is not None:
        row.is_active = is_active
    await session.flush()
    return row


async def delete_domain(session: AsyncSession, row: SenderDomain) -> None:
    await session.execute(delete(DkimKey).where(DkimKey.domain_id == row.id))
    await session.delete(row)
    await session.flush()


async def mark_verified(session: AsyncSession, domain_row: SenderDomain) -> None:
    """Set every check to passed without asking DNS: for ``scaisend dev``'s demo domain and
    ``scaisend domains verify --without-dns`` on a non-production install only."""
    domain_row.dkim_verified = domain_row.spf_verified = domain_row.dmarc_verified = True
    domain_row.verified = True
    domain_row.last_verified_at = utcnow()
    await session.flush()


# --- used by the send pipeline --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendingDomain:
    """What sending needs of a verified, active sender domain (a cached copy of the row, D82)."""

    id: str
    domain: str
    active_selector: str


SENDING_DOMAINS: ConfigCache[tuple[str, str], SendingDomain | None] = ConfigCache()  # by (tenant id, domain)
_SIGNING_KEYS: ConfigCache[tuple[str, str], tuple[str, bytes] | None] = ConfigCache()  # by (domain id, selector)


async def sending_domain(session: AsyncSession, tenant_id: str, from_email: str) -> SendingDomain | None:
    """The tenant's verified, active domain for the From address's domain (exact match, no parent domains);
    ``None`` means a live send must fail with 403 "Sender domain not verified". Cached per process (D82)."""
    _, at, host = from_email.strip().rpartition("@")
    if not at:
        return None
    try:
        name = normalize_domain(host)
    except BadRequestError:
        return None

    async def load() -> SendingDomain | None:
        row = await session.scalar(
            select(SenderDomain).where(
                SenderDomain.tenant_id == tenant_id,
                SenderDomain.domain == name,
                SenderDomain.verified.is_(True),
                SenderDomain.is_active.is_(True),
            )
        )
        return None if row is None else SendingDomain(row.id, row.domain, row.active_selector)

    return await SENDING_DOMAINS.get((tenant_id, name), load)


async def signing_key(
    session: AsyncSession, settings: Settings, domain_row: SenderDomain | SendingDomain
) -> tuple[str, bytes]:
    """``(selector, PEM private key)`` to DKIM-sign mail from the domain with (``d=`` is ``domain_row.domain``);
    the decrypted key is cached per process (D82)."""

    async def load() -> tuple[str, bytes] | None:
        key = await session.scalar(
            select(DkimKey).where(DkimKey.domain_id == domain_row.id, DkimKey.selector == domain_row.active_selector)
        )
        if key is None:
            return None
        return key.selector, decrypt_private_key(settings.secret_keys, key.private_key_encrypted)

    found = await _SIGNING_KEYS.get((domain_row.id, domain_row.active_selector), load)
    if found is None:
        raise DkimKeyMissingError(f"no DKIM key under selector {domain_row.active_selector} for {domain_row.domain}")
    return found
