"""The operator commands as real processes: created ids and keys are the last stdout line (or JSON with
``--json``), and what they create works against the API."""

from __future__ import annotations

import json

import httpx
import pytest
from redis.asyncio import Redis

from scaisend.ids import API_KEY_RE
from scaisend.queues import Queues
from scaisend.settings import Settings
from tests.harness.processes import run_cli


def last_line(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


class TestTenantsAndKeys:
    async def test_create_tenant_then_key_that_works(self, database: Settings, client: httpx.AsyncClient) -> None:
        tenant = run_cli(database, "tenants", "create", "Acme Mail")
        assert tenant.returncode == 0, tenant.stderr
        tenant_id = last_line(tenant.stdout)
        assert tenant_id.startswith("tnt_")
        key = run_cli(
            database,
            "keys",
            "create",
            "--tenant",
            tenant_id,
            "--name",
            "ops",
            "--scope",
            "mail.send",
            "--scope",
            "stats.read",
        )
        assert key.returncode == 0, key.stderr
        secret = last_line(key.stdout)
        assert API_KEY_RE.match(secret)
        response = await client.get("/v3/scopes", headers={"Authorization": f"Bearer {secret}"})
        assert response.json() == {"scopes": ["mail.send", "stats.read"]}

    def test_json_output_and_test_keys(self, database: Settings) -> None:
        tenant = json.loads(run_cli(database, "tenants", "create", "Json Co", "--json").stdout)
        key = run_cli(
            database, "keys", "create", "--tenant", tenant["id"], "--name", "ci", "--scope", "all", "--test", "--json"
        )
        body = json.loads(key.stdout)
        assert body["api_key"].startswith("sg_test_")
        assert "admin.api_keys" in body["scopes"]

    def test_unknown_scope_fails(self, database: Settings) -> None:
        tenant_id = last_line(run_cli(database, "tenants", "create", "Scopeless").stdout)
        result = run_cli(database, "keys", "create", "--tenant", tenant_id, "--name", "x", "--scope", "mail.fly")
        assert result.returncode == 1
        assert result.stderr.strip() == "scaisend: Unknown scope: mail.fly"

    def test_bad_setting_exits_2_naming_it(self, database: Settings) -> None:
        result = run_cli(database.model_copy(update={"REDIS_URL": "http://nope"}), "queues")
        assert result.returncode == 2
        assert "REDIS_URL" in result.stderr


class TestQueues:
    @pytest.mark.timeout(30)
    async def test_reports_zcard_of_each_queue(self, own_prefix: Settings, redis: Redis) -> None:
        queues = Queues(own_prefix.REDIS_QUEUE_PREFIX)
        await redis.zadd(queues.smtp_deliver, {"job-a": 1, "job-b": 2})
        result = run_cli(own_prefix, "queues", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"email:process": 0, "smtp:deliver": 2, "webhook:deliver": 0}


def test_migrate_is_idempotent(database: Settings) -> None:
    result = run_cli(database, "migrate")
    assert result.returncode == 0, result.stderr
    assert "upgraded to head" in result.stdout
