"""The operator commands as real processes: created ids and keys are the last stdout line (or JSON with
``--json``), and what they create works against the API."""

from __future__ import annotations

import json

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from scaisend.db.migrate import head_revision
from scaisend.ids import API_KEY_RE
from scaisend.queues import Queues
from scaisend.settings import Settings
from tests.factories.messages import ProcessQueue
from tests.harness.processes import free_port, run_cli
from tests.mail.conftest import process_queue

__all__ = ["process_queue"]  # the run's email:process queue, emptied around each test of this module


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


class TestMigrate:
    """Issue 16: one clear line and a distinct exit code for each way the database cannot be used, and the truth
    about what ran."""

    def test_a_database_at_head_is_already_current(self, database: Settings) -> None:
        result = run_cli(database, "migrate")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"already at {head_revision()} (head), nothing to do"

    def test_an_empty_database_is_upgraded_then_current(self, empty_database: Settings) -> None:
        first = run_cli(empty_database, "migrate")
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == f"upgraded from an empty database to {head_revision()} (head)"
        again = run_cli(empty_database, "migrate")
        assert again.stdout.strip() == f"already at {head_revision()} (head), nothing to do"

    def test_downgrade_says_from_where_to_where(self, empty_database: Settings) -> None:
        run_cli(empty_database, "migrate")
        result = run_cli(empty_database, "migrate", "--downgrade", "base")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"downgraded from {head_revision()} to an empty database"

    @pytest.mark.parametrize(
        ("case", "exit_code", "says"),
        [
            ("missing_database", 3, "database 'scaisend_absent_db' does not exist on "),
            ("bad_credentials", 4, "access denied for user 'nobody_numbers' on "),
            ("unreachable_server", 5, "cannot reach the database server at 127.0.0.1:"),
        ],
    )
    def test_an_unusable_database_is_one_line_and_an_exit_code(
        self, database: Settings, case: str, exit_code: int, says: str
    ) -> None:
        url = make_url(database.DATABASE_URL)
        wrong = {
            "missing_database": url.set(database="scaisend_absent_db"),
            "bad_credentials": url.set(username="nobody_numbers", password="wrong"),
            "unreachable_server": url.set(host="127.0.0.1", port=free_port()),
        }[case]
        settings = database.model_copy(update={"DATABASE_URL": wrong.render_as_string(hide_password=False)})
        result = run_cli(settings, "migrate")
        assert result.returncode == exit_code, result.stderr
        assert result.stdout == ""
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"scaisend migrate: {says}"), line


class TestDomainVerifiedWithoutDns:
    """Issue 16: a supported way to mark a test domain verified on a non-production install (no public DNS), refused
    in production."""

    async def test_a_test_install_marks_the_domain_verified_and_can_send(
        self, database: Settings, client: httpx.AsyncClient, process_queue: ProcessQueue
    ) -> None:
        assert database.ENVIRONMENT != "production"
        tenant_id = last_line(run_cli(database, "tenants", "create", "Local Run").stdout)
        key = last_line(
            run_cli(database, "keys", "create", "--tenant", tenant_id, "--name", "k", "--scope", "all").stdout
        )
        domain = "mail.local-run.test"
        assert run_cli(database, "domains", "add", domain, "--tenant", tenant_id).returncode == 0
        body = {
            "personalizations": [{"to": [{"email": "someone@example.org"}]}],
            "from": {"email": f"news@{domain}"},
            "subject": "hi",
            "content": [{"type": "text/plain", "value": "hi"}],
        }
        headers = {"Authorization": f"Bearer {key}"}
        assert (await client.post("/v3/mail/send", headers=headers, json=body)).status_code == 403

        result = run_cli(database, "domains", "verify", domain, "--tenant", tenant_id, "--without-dns")

        assert result.returncode == 0, result.stderr
        assert last_line(result.stdout) == f"{domain}: verified"
        assert "WITHOUT a DNS check" in result.stderr
        accepted = await client.post("/v3/mail/send", headers=headers, json=body)
        assert accepted.status_code == 202, accepted.text
        assert len(await process_queue.scores()) == 1
        message_id = accepted.json()["message_id"]  # cancelled, so no sweep of another test picks it up
        assert (await client.post(f"/v3/messages/{message_id}/cancel", headers=headers)).status_code == 200

    def test_refused_in_production(self, database: Settings) -> None:
        tenant_id = last_line(run_cli(database, "tenants", "create", "Prod").stdout)
        domain = "mail.prod-run.test"
        assert run_cli(database, "domains", "add", domain, "--tenant", tenant_id).returncode == 0
        production = database.model_copy(update={"ENVIRONMENT": "production"})

        result = run_cli(production, "domains", "verify", domain, "--tenant", tenant_id, "--without-dns")

        assert result.returncode == 2
        assert result.stderr.strip().startswith("scaisend: --without-dns is refused when ENVIRONMENT=production")
        shown = json.loads(run_cli(database, "domains", "show", domain, "--tenant", tenant_id, "--json").stdout)
        assert shown["verified"] is False
