"""Factories for the delivery stage: a verified sender domain whose DKIM key the loopback DNS publishes, rendered
messages exactly as the compose stage leaves them (``rendered``, MIME stored by compose's own ``store_mime``), and
:class:`DeliveryWorld`, which runs ``deliver_message`` against the real MariaDB, Redis, loopback DNS and a
scriptable MX, with a :class:`~scaisend.clock.ManualClock` instead of sleeping."""

from __future__ import annotations

import random
import ssl
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import dkim  # type: ignore[import-untyped]
import dns.rdtypes.ANY.TXT
import dns.resolver
from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from arq.jobs import Job, JobStatus
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.clock import ManualClock
from scaisend.compose.steps import store_mime
from scaisend.db.session import unit_of_work
from scaisend.delivery.runtime import DeliveryRuntime
from scaisend.delivery.tasks import deliver_message, job_id
from scaisend.domains.service import add_domain, domain_keys, mark_verified
from scaisend.ids import new_id
from scaisend.models import EmailEvent, Message, MessageStatus, Suppression
from scaisend.queues import Queues, create_arq_pool, deserialize_job
from scaisend.settings import Settings
from scaisend.workers.context import close_context, open_context
from tests.factories.tenants import make_tenant
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX


@dataclass(frozen=True)
class Sender:
    """A tenant with a verified, active sender domain."""

    tenant_id: str
    domain: str
    selector: str
    public_key: str

    @property
    def address(self) -> str:
        return f"news@{self.domain}"

    def publish(self, dns_server: LoopbackDNS) -> None:
        """Serve the DKIM key record (``scaisend._domainkey.<domain>``) from the loopback DNS."""
        dns_server.add_txt(f"{self.selector}._domainkey.{self.domain}", f"v=DKIM1; k=rsa; p={self.public_key}")


async def make_sender(maker: async_sessionmaker[AsyncSession], settings: Settings, *, verified: bool = True) -> Sender:
    tenant = await make_tenant(maker)
    domain = f"s{uuid.uuid4().hex[:10]}.example.test"
    async with unit_of_work(maker) as session:
        row = await add_domain(session, settings, tenant.tenant_id, domain)
        if verified:
            await mark_verified(session, row)
        (key,) = await domain_keys(session, row)
    return Sender(tenant.tenant_id, domain, key.selector, key.public_key)


def build_mime(
    message_id: str,
    sender: str,
    to: Sequence[str],
    *,
    cc: Sequence[str] = (),
    subject: str = "Hello",
    body: str = "Hello there.\n",
    list_unsubscribe: str | None = None,
) -> bytes:
    """RFC 5322 bytes like compose's: no DKIM signature, ``X-ScaiSend-Message-Id``, CRLF line endings."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = ", ".join(to)
    if cc:
        mime["Cc"] = ", ".join(cc)
    mime["Subject"] = subject
    mime["Date"] = format_datetime(datetime.now(UTC))
    mime["Message-ID"] = f"<{message_id}@scaisend.test>"
    mime["X-ScaiSend-Message-Id"] = message_id
    if list_unsubscribe:
        mime["List-Unsubscribe"] = list_unsubscribe
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(body)
    return mime.as_bytes(policy=mime.policy.clone(linesep="\r\n"))


async def make_rendered_message(
    maker: async_sessionmaker[AsyncSession],
    sender: Sender,
    to: Sequence[str],
    *,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    created_at: datetime | None = None,
    status: str = MessageStatus.RENDERED.value,
    attempts: int = 0,
    next_attempt_at: datetime | None = None,
    categories: Sequence[str] = (),
    **mime_options: Any,
) -> str:
    message_id = new_id("msg")
    created = created_at or datetime.now(UTC)
    person = {"to": [{"email": e} for e in to], "cc": [{"email": e} for e in cc], "bcc": [{"email": e} for e in bcc]}
    async with unit_of_work(maker) as session:
        message = Message(
            id=message_id,
            tenant_id=sender.tenant_id,
            status=status,
            sandbox=False,
            from_email=sender.address,
            subject=mime_options.get("subject", "Hello"),
            to_emails=list(to),
            personalization=person,
            categories=list(categories),
            custom_args={},
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            created_at=created,
            updated_at=created,
        )
        session.add(message)
        await session.flush()
        await store_mime(session, message, build_mime(message_id, sender.address, to, cc=cc, **mime_options), created)
        message.status = status
    return message_id


def dkim_verifies(data: bytes, dns_server: LoopbackDNS) -> bool:
    """``dkim.verify`` with the key looked up, for real, in the loopback DNS."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns_server.host]
    resolver.port = dns_server.port

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        rdata = next(iter(resolver.resolve(name.decode().rstrip("."), "TXT")))
        assert isinstance(rdata, dns.rdtypes.ANY.TXT.TXT)
        return b"".join(rdata.strings)

    return bool(dkim.verify(data, dnsfunc=dnsfunc))


@dataclass
class DeliveryWorld:
    """Everything a delivery scenario needs; ``run`` is the job exactly as the SMTP worker calls it."""

    settings: Settings
    ctx: dict[str, Any]
    clock: ManualClock
    dns: LoopbackDNS
    mx: ScriptableMX
    sender: Sender
    maker: async_sessionmaker[AsyncSession]

    @property
    def runtime(self) -> DeliveryRuntime:
        runtime = self.ctx["delivery"]
        assert isinstance(runtime, DeliveryRuntime)
        return runtime

    def route(self, domain: str, host: str | None = None, *, ip: str = "127.0.0.1", preference: int = 10) -> None:
        """An MX record for ``domain`` pointing (through an A record) at the scriptable MX."""
        self.dns.add_mx(domain, host or f"mx.{domain}", preference, ip=ip)

    async def message(self, to: Sequence[str], **options: Any) -> str:
        """A rendered message, rendered now by the world's clock unless ``created_at`` says otherwise."""
        options.setdefault("created_at", self.clock.now())
        return await make_rendered_message(self.maker, self.sender, to, **options)

    async def run(self, message_id: str, attempt: int = 1) -> str:
        return await deliver_message(self.ctx, message_id, attempt)

    async def row(self, message_id: str) -> Message:
        async with unit_of_work(self.maker) as session:
            message = await session.get(Message, message_id)
        assert message is not None
        return message

    async def events(self, message_id: str) -> list[EmailEvent]:
        async with unit_of_work(self.maker) as session:
            rows = await session.scalars(
                select(EmailEvent)
                .where(
                    EmailEvent.tenant_id == self.sender.tenant_id,
                    EmailEvent.message_id == message_id,
                )
                .order_by(EmailEvent.occurred_at, EmailEvent.event_type)
            )
            return list(rows)

    async def bounce_list(self, email: str) -> list[Suppression]:
        async with unit_of_work(self.maker) as session:
            rows = await session.scalars(
                select(Suppression).where(
                    Suppression.tenant_id == self.sender.tenant_id,
                    Suppression.email == email.lower(),
                    Suppression.kind == "bounce",
                )
            )
            return list(rows)

    async def queued(self, message_id: str, attempt: int) -> tuple[float, tuple[Any, ...]] | None:
        """(score in Unix ms, args) of the queued ``deliver_message`` job for that attempt, or ``None``."""
        redis = self.ctx["redis"]
        key = job_id(message_id, attempt)
        job = Job(key, redis, _queue_name=self.ctx["queues"].smtp_deliver, _deserializer=deserialize_job)
        if await job.status() is JobStatus.not_found:
            return None
        info = await job.info()
        assert info is not None
        score = await redis.zscore(self.ctx["queues"].smtp_deliver, key)
        return float(score), tuple(info.args)


@asynccontextmanager
async def open_world(
    app: FastAPI,
    dns_server: LoopbackDNS,
    mx: ScriptableMX,
    *,
    sender: Sender | None = None,
    verified_context: ssl.SSLContext | None = None,
    **overrides: Any,
) -> AsyncIterator[DeliveryWorld]:
    """A :class:`DeliveryWorld` on the app's database and Redis; ``overrides`` are settings (``SMTP_TIMEOUT``, …)."""
    base: Settings = app.state.resources.settings
    prefix = f"{base.REDIS_QUEUE_PREFIX}w{uuid.uuid4().hex[:8]}:"  # its own queues: a burst worker sees only ours
    values = {
        "DNS_NAMESERVERS": dns_server.nameserver_setting,
        "SMTP_PORT": mx.port,
        "SMTP_TIMEOUT": "5s",
        "MX_CACHE_TTL": 300,
        "REDIS_QUEUE_PREFIX": prefix,
        **overrides,
    }
    settings = base.model_copy(update=values)
    maker = app.state.resources.maker
    clock = ManualClock(datetime.now(UTC))
    ctx = await open_context(settings, await create_arq_pool(settings.REDIS_URL))
    ctx["clock"] = clock
    ctx["delivery"] = DeliveryRuntime.build(settings, clock, verified_context=verified_context, rng=random.Random(5))
    owner = sender or await make_sender(maker, settings)
    owner.publish(dns_server)
    try:
        yield DeliveryWorld(settings, ctx, clock, dns_server, mx, owner, maker)
    finally:
        await ctx["delivery"].aclose()
        await _forget_queued_jobs(ctx["redis"], prefix)
        await ctx["redis"].aclose()
        await close_context(ctx)


async def _forget_queued_jobs(redis: ArqRedis, prefix: str) -> None:
    """Delete the world's queues, their arq job records and its journal keys."""
    for queue in Queues(prefix).all().values():
        for job in await redis.zrange(queue, 0, -1):
            await redis.delete(f"{job_key_prefix}{job.decode()}")
    async for key in redis.scan_iter(match=f"{prefix}*", count=500):
        await redis.delete(key)
