"""What a collector is: an async function of the exporter's sources returning gauge families."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from exporter.exposition import GaugeFamily
from scaisend.queues import Queues
from scaisend.reputation.monitor import ReputationMonitor


@dataclass(frozen=True)
class Sources:
    engine: AsyncEngine
    redis: Redis
    queues: Queues
    now: Callable[[], datetime]
    reputation: ReputationMonitor | None = None  # None when REPUTATION_CHECKS_ENABLED is false


Collector = Callable[[Sources], Awaitable[list[GaugeFamily]]]
