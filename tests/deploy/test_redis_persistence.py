"""The bundle's Redis keeps the append-only file, fsynced every second, in compose, systemd and Kubernetes (issue 14
item 3): the systemd snippet is loaded by a real ``redis-server`` and the Kubernetes manifest validates strictly."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError

from deploy import redis as bundle_redis
from scaisend.dev.redis_server import redis_executable
from tests.deploy.tools import DEPLOY, K8S_VERSION, load, load_all, run_python_module
from tests.harness.processes import free_port

AOF = ["--appendonly", "yes", "--appendfsync", "everysec"]


def test_compose_redis_runs_with_aof() -> None:
    command = load(DEPLOY / "compose" / "compose.yaml")["services"]["redis"]["command"]
    assert command == ["redis-server", *AOF]


def test_systemd_snippet_turns_aof_on_in_a_real_redis_server(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            redis_executable(),
            str(DEPLOY / "systemd" / "redis" / "scaisend.conf"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except ConnectionError:
                assert server.poll() is None, "redis-server refused the snippet"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.1)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    finally:
        client.close()
        server.terminate()
        server.wait(10)


def test_kubernetes_redis_validates_and_runs_with_aof_on_a_volume() -> None:
    path = DEPLOY / "kubernetes" / "redis" / "redis.yaml"
    result = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict", path)
    assert result.returncode == 0, result.stdout + result.stderr
    (stateful_set,) = [d for d in load_all(path) if d["kind"] == "StatefulSet"]
    (container,) = stateful_set["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["redis-server", *AOF]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert stateful_set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert bundle_redis.server_args() == AOF
