"""A ``redis-server`` of a test's (or the fault bench's) own, on a free loopback port, persisted like the bundle's
(``appendonly yes``, ``appendfsync everysec``): it can be killed, restarted on its append-only file or flushed without
touching the shared Redis the other tests use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scaisend.dev.redis_server import RedisServer
from tests.harness.processes import free_port


class AofRedis(RedisServer):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, port=free_port())

    def command(self) -> list[str]:
        args = super().command()
        args[args.index("--appendonly") + 1] = "yes"
        return [*args, "--appendfsync", "everysec"]

    def kill(self) -> None:
        """``kill -9``: the last second of writes may be lost, as on a crashed host."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[AofRedis]:
    with AofRedis(tmp_path / "redis") as server:
        yield server
