"""Pytest fixtures for the loopback network peers: ``dns_server``, ``dns``, ``mx`` and ``mx_factory``.

Load with ``pytest_plugins = ["tests.harness.fixtures_net"]`` (done once in ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX

MXFactory = Callable[..., Awaitable[ScriptableMX]]


@pytest.fixture(scope="session")
def dns_server() -> Iterator[LoopbackDNS]:
    """One loopback DNS server for the whole session; prefer the per-test ``dns`` fixture."""
    with LoopbackDNS() as server:
        yield server


@pytest.fixture
def dns(dns_server: LoopbackDNS) -> Iterator[LoopbackDNS]:
    """The session DNS server with an empty record set for this test."""
    dns_server.clear()
    yield dns_server
    dns_server.clear()


@pytest.fixture
async def mx() -> AsyncIterator[ScriptableMX]:
    """A started plain-SMTP ScriptableMX on 127.0.0.1 with a free port, stopped after the test."""
    async with ScriptableMX() as server:
        yield server


@pytest.fixture
async def mx_factory() -> AsyncIterator[MXFactory]:
    """Start extra MXes, e.g. ``await mx_factory(tls=True)``; all are stopped after the test."""
    started: list[ScriptableMX] = []

    async def make(**kwargs: Any) -> ScriptableMX:
        server = await ScriptableMX(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        await server.stop()
