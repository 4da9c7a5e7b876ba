"""Connection reuse per destination (``SMTP_POOL_SIZE_PER_DOMAIN``) against the scriptable MX, which counts the
connections it accepts."""

from __future__ import annotations

import asyncio
from functools import partial

from scaisend.clock import ManualClock
from scaisend.delivery.connection_pool import ConnectionPool
from scaisend.delivery.result import DeliveryResult, Outcome
from scaisend.delivery.smtp_session import ConnectFailure, SmtpConnection, open_connection, send_message
from scaisend.delivery.tls_policy import TlsPolicy
from tests.factories.delivery import build_mime
from tests.harness.mx import Drop, ScriptableMX, Slow

FROM = "bounces+msg_01test@bounces.scaisend.test"
DATA = build_mime("msg_01test", "news@acme.example", ["a@example.test"])
POLICY = TlsPolicy("opportunistic", ManualClock())


async def opener(port: int) -> SmtpConnection | ConnectFailure:
    return await open_connection(
        "mx.scaisend.test", "127.0.0.1", port, helo_name="mta.scaisend.test", timeout=5.0, policy=POLICY
    )


async def deliver(pool: ConnectionPool, mx: ScriptableMX, rcpt: str) -> DeliveryResult:
    async with pool.connection("mx.scaisend.test", mx.port, partial(opener, mx.port)) as conn:
        assert isinstance(conn, SmtpConnection)
        (result,) = await send_message(conn, FROM, [rcpt], DATA)
        return result


class TestConnection:
    async def test_sequential_messages_share_one_connection(self, mx: ScriptableMX) -> None:
        pool = ConnectionPool(3)
        results = [await deliver(pool, mx, f"r{i}@example.test") for i in range(5)]
        await pool.close()
        assert {r.outcome for r in results} == {Outcome.DELIVERED}
        assert (mx.connections, len(mx.messages), pool.opened("MX.scaisend.test", mx.port)) == (1, 5, 1)

    async def test_concurrent_messages_never_exceed_the_pool_size(self, mx: ScriptableMX) -> None:
        for i in range(8):
            mx.script(f"r{i}@example.test", Slow(0.1))
        pool = ConnectionPool(2)
        results = await asyncio.gather(*(deliver(pool, mx, f"r{i}@example.test") for i in range(8)))
        await pool.close()
        assert {r.outcome for r in results} == {Outcome.DELIVERED}
        assert mx.connections == 2
        assert mx.peak_sessions == 2
        await mx.wait_until(lambda: mx.active_sessions == 0)

    async def test_a_broken_connection_is_replaced(self, mx: ScriptableMX) -> None:
        mx.script("drop@example.test", Drop())
        pool = ConnectionPool(1)
        assert (await deliver(pool, mx, "drop@example.test")).outcome is Outcome.DEFERRED
        assert (await deliver(pool, mx, "ok@example.test")).outcome is Outcome.DELIVERED
        await pool.close()
        assert mx.connections == 2

    async def test_idle_connections_past_the_timeout_are_closed_not_reused(self, mx: ScriptableMX) -> None:
        pool = ConnectionPool(2, idle_timeout=30.0)
        await deliver(pool, mx, "a@example.test")
        (idle,) = pool._slots[("mx.scaisend.test", mx.port)].idle
        idle.last_used -= 31.0
        await deliver(pool, mx, "b@example.test")
        assert mx.connections == 2
        (fresh,) = pool._slots[("mx.scaisend.test", mx.port)].idle
        fresh.last_used -= 31.0
        await pool.reap()
        assert pool._slots[("mx.scaisend.test", mx.port)].idle == []
        await mx.wait_until(lambda: mx.active_sessions == 0)

    async def test_too_many_messages_retire_a_connection(self, mx: ScriptableMX) -> None:
        pool = ConnectionPool(1, max_messages=2)
        for i in range(4):
            await deliver(pool, mx, f"r{i}@example.test")
        await pool.close()
        assert mx.connections == 2

    async def test_connect_failure_is_handed_to_the_caller(self, mx: ScriptableMX) -> None:
        pool = ConnectionPool(1)
        async with pool.connection("mx.scaisend.test", 1, partial(opener, 1)) as conn:
            assert isinstance(conn, ConnectFailure)
        assert pool.opened("mx.scaisend.test", 1) == 0

    async def test_close_quits_idle_connections(self, mx: ScriptableMX) -> None:
        pool = ConnectionPool(2)
        await deliver(pool, mx, "a@example.test")
        await pool.close()
        await mx.wait_until(lambda: mx.active_sessions == 0)
        assert mx.sessions[0].closed
