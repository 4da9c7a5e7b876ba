"""Per-run settings: each test run gets its own MariaDB database and Redis key space so runs never collide."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

from scaisend.settings import Settings

RUN_ID = uuid.uuid4().hex[:10]
MYSQL_SERVER_URL = os.environ.get("SCAISEND_TEST_MYSQL", "mysql+aiomysql://root@127.0.0.1:3306")
REDIS_SERVER_URL = os.environ.get("SCAISEND_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_DB_INDEX = 9
TEST_DATABASE = f"scaisend_t_{RUN_ID}"
STATE_DIR = Path(tempfile.gettempdir()) / f"scaisend-test-{RUN_ID}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


INBOUND_PORT = _free_port()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": f"{MYSQL_SERVER_URL}/{TEST_DATABASE}",
        "REDIS_URL": f"{REDIS_SERVER_URL}/{REDIS_DB_INDEX}",
        "REDIS_QUEUE_PREFIX": f"t{RUN_ID}:",
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "ENVIRONMENT": "test",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "SMTP_ALLOW_PRIVATE_TARGETS": True,  # the test MX listens on 127.0.0.1
        "PUBLIC_BASE_URL": "http://testserver",
        "SMTP_HOSTNAME": "mta.scaisend.test",
        "BOUNCE_DOMAIN": "bounces.scaisend.test",
        # an SMTP service started by a test listens for DSNs on loopback only, on this run's own port
        "SMTP_INBOUND_HOST": "127.0.0.1",
        "SMTP_INBOUND_PORT": INBOUND_PORT,
        # the exporter's reputation checks look up DNS; tests that want them enable them with a loopback DNS server
        "REPUTATION_CHECKS_ENABLED": False,
        # state folders of this run, never the checkout's .scaisend/
        "IMAGE_STORE_PATH": str(STATE_DIR / "images"),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
