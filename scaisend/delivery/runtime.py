"""The delivery stage's process-wide state, kept in the arq ``ctx`` under ``"delivery"`` (docs/architecture.md, D27): the MX
cache, the TLS memory, the connection pool, the DKIM key cache, the retry policy and its random source, the request attachments (D70).

:func:`start_delivery_runtime` (a worker starter) builds it when the SMTP process starts and closes the pool when it
stops; :func:`delivery_runtime` builds it on first use otherwise, from ``ctx["settings"]`` and ``ctx["clock"]``. A
test may put its own there first (say, with a TLS context that trusts the test MX's certificate, or a seeded ``rng``).
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from scaisend.clock import Clock
from scaisend.delivery.circuit_breaker import CircuitBreakers
from scaisend.delivery.connection_pool import ConnectionPool
from scaisend.delivery.dkim_signer import DkimSigner
from scaisend.delivery.mx import MxResolver
from scaisend.delivery.request_attachments import RequestAttachments
from scaisend.delivery.retry_policy import RetryPolicy
from scaisend.delivery.tls_policy import TlsPolicy
from scaisend.job_context import JobContext
from scaisend.resolver import make_resolver
from scaisend.settings import Settings


@dataclass
class DeliveryRuntime:
    settings: Settings
    clock: Clock
    mx: MxResolver
    tls: TlsPolicy
    pool: ConnectionPool
    retry: RetryPolicy
    breakers: CircuitBreakers
    signer: DkimSigner = field(default_factory=DkimSigner)
    rng: random.Random = field(default_factory=random.Random)
    attachments: RequestAttachments = field(default_factory=RequestAttachments)

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock,
        *,
        verified_context: ssl.SSLContext | None = None,
        rng: random.Random | None = None,
    ) -> DeliveryRuntime:
        return cls(
            settings=settings,
            clock=clock,
            mx=MxResolver(
                make_resolver(settings),
                clock,
                ttl=settings.MX_CACHE_TTL,
                port=settings.SMTP_PORT,
                relay=settings.SMTP_RELAY_HOST,
            ),
            tls=TlsPolicy(settings.SMTP_TLS_POLICY, clock, verified_context=verified_context),
            pool=ConnectionPool(settings.SMTP_POOL_SIZE_PER_DOMAIN),
            retry=RetryPolicy.from_settings(settings),
            breakers=CircuitBreakers(clock),
            rng=rng or random.Random(),
        )

    async def aclose(self) -> None:
        await self.pool.close()


def delivery_runtime(ctx: JobContext) -> DeliveryRuntime:
    runtime = ctx.get("delivery")
    if runtime is None:
        runtime = ctx["delivery"] = DeliveryRuntime.build(ctx["settings"], ctx["clock"])
    assert isinstance(runtime, DeliveryRuntime)
    return runtime


async def start_delivery_runtime(ctx: JobContext) -> Callable[[], Awaitable[None]]:
    """A worker starter (``scaisend.workers.context.Starter``): builds the runtime when the SMTP process starts and
    returns the stopper that closes its pooled connections (``QUIT``) once the workers have stopped."""
    return delivery_runtime(ctx).aclose
