"""Everything an end-to-end scenario through the real processes needs, started and stopped together: a scriptable MX
published for one domain in the loopback DNS, a verified sender with its DKIM record, a key with every scope, a webhook
receiver and the API, worker, SMTP service and exporter as processes (:func:`tests.harness.stack.start_stack`)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from scaisend.auth.scopes import SCOPE_NAMES
from tests.factories.delivery import Sender, make_sender
from tests.factories.tenants import TenantKey, make_key
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX
from tests.harness.stack import Stack, start_stack
from tests.harness.webhook_receiver import WebhookReceiver


@dataclass
class World:
    stack: Stack
    mx: ScriptableMX
    sender: Sender
    key: TenantKey
    receiver: WebhookReceiver


@contextlib.asynccontextmanager
async def stack_world(
    own_database: OwnDatabase,
    dns_server: LoopbackDNS,
    tmp_path: Path,
    domain: str,
    script: Callable[[ScriptableMX], None],
    **overrides: str,
) -> AsyncIterator[World]:
    """The running world; ``script`` tells the MX its per-address replies before anything starts. Retries wait 1 s and
    the queues have a prefix of their own; ``overrides`` replace settings (e.g. ``REDIS_URL``, a Redis of the
    test's own)."""
    mx = ScriptableMX()
    await mx.start()
    script(mx)
    dns_server.add_mx(domain, f"mx.{domain}", ip="127.0.0.1")
    database, maker = own_database.settings, own_database.maker
    sender = await make_sender(maker, database)
    sender.publish(dns_server)
    key = await make_key(maker, sender.tenant_id, sorted(SCOPE_NAMES))
    settings = database.model_copy(
        update={
            "DNS_NAMESERVERS": dns_server.nameserver_setting,
            "SMTP_PORT": mx.port,
            "SMTP_RETRY_SCHEDULE": "1s",
            "REDIS_QUEUE_PREFIX": f"{database.REDIS_QUEUE_PREFIX}w{uuid.uuid4().hex[:6]}:",
            **overrides,
        }
    )
    receiver = WebhookReceiver().start()
    stack = await asyncio.to_thread(start_stack, settings, tmp_path)
    try:
        yield World(stack, mx, sender, key, receiver)
    finally:
        await asyncio.to_thread(stack.stop)
        receiver.stop()
        await mx.stop()
        dns_server.remove(domain)
