"""Per-run settings: each test run gets its own MariaDB database and Redis key space so runs never collide."""

from __future__ import annotations

import os
import uuid

from scaisend.settings import Settings

RUN_ID = uuid.uuid4().hex[:10]
MYSQL_SERVER_URL = os.environ.get("SCAISEND_TEST_MYSQL", "mysql+aiomysql://root@127.0.0.1:3306")
REDIS_SERVER_URL = os.environ.get("SCAISEND_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_DB_INDEX = 9
TEST_DATABASE = f"scaisend_t_{RUN_ID}"


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": f"{MYSQL_SERVER_URL}/{TEST_DATABASE}",
        "REDIS_URL": f"{REDIS_SERVER_URL}/{REDIS_DB_INDEX}",
        "REDIS_QUEUE_PREFIX": f"t{RUN_ID}:",
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "ENVIRONMENT": "test",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "PUBLIC_BASE_URL": "http://testserver",
        "SMTP_HOSTNAME": "mta.scaisend.test",
        "BOUNCE_DOMAIN": "bounces.scaisend.test",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
