"""The demo account of ``scaisend dev`` (D16): a tenant, a live API key holding every scope and a verified sender
domain, made on the first run and reused on every later one.

The database keeps only the key's hash, so the secret is kept in ``<data dir>/demo.json`` (mode 0600) together with
the data dir's own ``SECRET_KEY`` (which encrypts the demo domain's DKIM key): re-runs print the same key. Whatever
is missing or no longer valid (a revoked key, a deleted domain, a fresh database) is made again.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.api_keys import create_api_key
from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.clock import utcnow
from scaisend.crypto import DecryptionError
from scaisend.domains import service as domains
from scaisend.domains.dkim_keys import DkimKeyMissingError
from scaisend.ids import hash_api_key
from scaisend.models import ApiKey, SenderDomain, Tenant
from scaisend.settings import Settings
from scaisend.tenants.service import create_tenant

DEMO_TENANT_NAME = "Demo"
DEMO_TENANT_SLUG = "demo"
DEMO_KEY_NAME = "demo (scaisend dev)"
# ".example" is reserved (RFC 2606) so it can never be a real domain, and, unlike ".localhost" or ".test", email
# validation accepts it as a From address
DEMO_DOMAIN = "demo.scaisend.example"
DEMO_SENDER = f"demo@{DEMO_DOMAIN}"


@dataclass
class DemoState:
    """What ``demo.json`` holds."""

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    tenant_id: str = ""
    api_key: str = ""
    api_key_id: str = ""
    domain: str = DEMO_DOMAIN
    sender: str = DEMO_SENDER

    @classmethod
    def load(cls, path: Path) -> DemoState:
        """The saved state, or a fresh one (with a new ``secret_key``) when the file is missing or unreadable."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or not isinstance(data.get("secret_key"), str) or len(data["secret_key"]) < 16:
            return cls()
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2, sort_keys=True)
            handle.write("\n")
        tmp.replace(path)


async def _tenant(session: AsyncSession, state: DemoState) -> Tenant:
    tenant = await session.get(Tenant, state.tenant_id) if state.tenant_id else None
    tenant = tenant or await session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG))
    return tenant or await create_tenant(session, DEMO_TENANT_NAME, slug=DEMO_TENANT_SLUG)


async def _api_key(session: AsyncSession, tenant_id: str, state: DemoState) -> tuple[ApiKey, str]:
    every_scope = sorted(SCOPE_NAMES)
    if state.api_key:
        row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(state.api_key)))
        usable = (
            row is not None
            and row.tenant_id == tenant_id
            and row.revoked_at is None
            and (row.expires_at is None or row.expires_at > utcnow())
        )
        if usable and row is not None:
            if sorted(row.scopes) != every_scope:  # the catalogue grew since the key was made
                row.scopes = every_scope
                await session.flush()
            return row, state.api_key
    return await create_api_key(
        session, tenant_id=tenant_id, name=DEMO_KEY_NAME, scopes=every_scope, environment="live"
    )


async def _domain(session: AsyncSession, settings: Settings, tenant_id: str) -> SenderDomain:
    row = await session.scalar(
        select(SenderDomain).where(SenderDomain.tenant_id == tenant_id, SenderDomain.domain == DEMO_DOMAIN)
    )
    if row is not None:
        try:
            await domains.signing_key(session, settings, row)
        except (DecryptionError, DkimKeyMissingError):  # made under another SECRET_KEY (demo.json was lost)
            await domains.delete_domain(session, row)
            row = None
    if row is None:
        row = await domains.add_domain(session, settings, tenant_id, DEMO_DOMAIN)
    if not row.is_active:
        row.is_active = True
    if not row.verified:
        await domains.mark_verified(session, row)
    return row


async def ensure_demo(session: AsyncSession, settings: Settings, state: DemoState) -> DemoState:
    """Make (or find) the demo tenant, key and verified domain; return the state to save. Flushes, never commits."""
    tenant = await _tenant(session, state)
    key_row, secret = await _api_key(session, tenant.id, state)
    domain = await _domain(session, settings, tenant.id)
    return DemoState(
        secret_key=state.secret_key,
        tenant_id=tenant.id,
        api_key=secret,
        api_key_id=key_row.id,
        domain=domain.domain,
        sender=f"demo@{domain.domain}",
    )
