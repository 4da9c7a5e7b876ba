"""Outbound SMTP connections kept per destination host (docs/architecture.md, `scaisend/settings.py`, `.env.example`, D17, D23 ``SMTP_POOL_SIZE_PER_DOMAIN``).

At most ``SMTP_POOL_SIZE_PER_DOMAIN`` connections exist at any time to one (MX host, port), counting both those in
use and those idle: a caller first takes a slot, then reuses an idle connection or, only when none is idle, opens a
new one. A reused connection is reset with ``RSET`` first; one that fails the ``RSET``, was idle longer than
:data:`IDLE_TIMEOUT`, carried :data:`MAX_MESSAGES_PER_CONNECTION` messages or broke during use (timeout, dropped
socket, 421) is closed instead of kept. Callers queue for a slot when all are busy, which is also the per-host
concurrency cap that keeps us polite to one MX.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from scaisend.delivery.smtp_session import ConnectFailure, SmtpConnection

IDLE_TIMEOUT = 30.0  # seconds; well under the 5 minutes RFC 5321 §4.5.3.2 lets a server wait for our next command
MAX_MESSAGES_PER_CONNECTION = 100

Opener = Callable[[], Awaitable[SmtpConnection | ConnectFailure]]


@dataclass
class _Slot:
    semaphore: asyncio.Semaphore
    idle: list[SmtpConnection] = field(default_factory=list)
    opened: int = 0


class ConnectionPool:
    """Reusable connections per (host, port); one pool per process, shared by concurrent delivery jobs."""

    def __init__(
        self, size: int, *, idle_timeout: float = IDLE_TIMEOUT, max_messages: int = MAX_MESSAGES_PER_CONNECTION
    ) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.size = size
        self.idle_timeout = idle_timeout
        self.max_messages = max_messages
        self._slots: dict[tuple[str, int], _Slot] = {}

    def _slot(self, host: str, port: int) -> _Slot:
        key = (host.lower(), port)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(asyncio.Semaphore(self.size))
        return slot

    def _expired(self, conn: SmtpConnection) -> bool:
        return asyncio.get_running_loop().time() - conn.last_used > self.idle_timeout

    async def _take_idle(self, slot: _Slot) -> SmtpConnection | None:
        while slot.idle:
            conn = slot.idle.pop()  # most recently used first: the likeliest to be alive
            if conn.usable and not self._expired(conn) and await conn.reset():
                return conn
            await conn.close()
        return None

    async def _give_back(self, slot: _Slot, conn: SmtpConnection) -> None:
        if conn.usable and conn.messages < self.max_messages:
            conn.last_used = asyncio.get_running_loop().time()
            slot.idle.append(conn)
        else:
            await conn.close()

    @asynccontextmanager
    async def connection(self, host: str, port: int, opener: Opener) -> AsyncIterator[SmtpConnection | ConnectFailure]:
        """A connection to ``host:port`` for one transaction: an idle one after ``RSET``, else ``opener()``'s (which
        may be a :class:`ConnectFailure`). Returned to the pool afterwards if still healthy."""
        slot = self._slot(host, port)
        async with slot.semaphore:
            conn = await self._take_idle(slot)
            if conn is None:
                opened = await opener()
                if isinstance(opened, ConnectFailure):
                    yield opened
                    return
                slot.opened += 1
                conn = opened
            try:
                yield conn
            finally:
                await self._give_back(slot, conn)

    def full(self, host: str, port: int) -> bool:
        """Whether every connection slot to ``host:port`` is taken (a new caller would wait)."""
        slot = self._slots.get((host.lower(), port))
        return slot is not None and slot.semaphore.locked()

    def opened(self, host: str, port: int) -> int:
        """How many connections this pool has opened to ``host:port`` so far."""
        slot = self._slots.get((host.lower(), port))
        return slot.opened if slot else 0

    async def reap(self) -> None:
        """Close idle connections that have waited longer than the idle timeout."""
        for slot in self._slots.values():
            stale = [conn for conn in slot.idle if not conn.usable or self._expired(conn)]
            for conn in stale:
                slot.idle.remove(conn)
            for conn in stale:
                await conn.close()

    async def close(self) -> None:
        """Close every idle connection (call at shutdown, once no delivery runs)."""
        for slot in self._slots.values():
            idle, slot.idle = slot.idle, []
            for conn in idle:
                await conn.close()
