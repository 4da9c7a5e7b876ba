"""The identity commands (issue 11): partners, tenants, users and roles from the command line, and what they set up
works against the API. One test runs them as real processes; the rest call the same ``main`` in a thread of the test
process with the same environment (a process costs seconds on a loaded machine)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import httpx
import pytest

from scaisend.cli.main import main
from scaisend.settings import Settings, as_environment
from tests.harness.jwks import JwksIssuer
from tests.harness.processes import run_cli


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def environment(settings: Settings) -> Iterator[None]:
    values, unset = as_environment(settings)
    kept = {k: v for k, v in os.environ.items() if k not in unset}
    with mock.patch.dict(os.environ, kept | values, clear=True):
        yield


def run_main(settings: Settings, *args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with environment(settings), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def ok(database: Settings, *args: str) -> str:
    result = run_main(database, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def aok(database: Settings, *args: str) -> str:
    return await asyncio.to_thread(ok, database, *args)


def last_line(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


class TestPartnersAndTenants:
    @pytest.mark.timeout(180)
    def test_as_real_processes(self, database: Settings) -> None:
        created = run_cli(database, "partners", "create", "Process Partner", "--json")
        assert created.returncode == 0, created.stderr
        partner = json.loads(created.stdout)["id"]
        listed = run_cli(database, "partners", "list")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.splitlines()[0].split() == ["ID", "SLUG", "SCAIKEY_ID", "TENANTS", "NAME"]
        assert any(line.startswith(partner) for line in listed.stdout.splitlines())

    async def test_partner_with_tenants_listed_shown_renamed(self, database: Settings) -> None:
        partner = last_line(await aok(database, "partners", "create", "Reseller One"))
        assert partner.startswith("prt_")
        first = last_line(await aok(database, "tenants", "create", "Shop One", "--partner", partner))
        second = last_line(await aok(database, "tenants", "create", "Shop Two", "--partner", partner))
        await aok(database, "tenants", "create", "Elsewhere")
        listed = json.loads(await aok(database, "tenants", "list", "--partner", partner, "--json"))
        assert {t["id"] for t in listed} == {first, second}
        partners = json.loads(await aok(database, "partners", "list", "--json"))
        assert [p["tenants"] for p in partners if p["id"] == partner] == [2]
        assert "Shop One" in await aok(database, "tenants", "list")
        await aok(database, "tenants", "rename", first, "Shop Uno")
        shown = json.loads(await aok(database, "tenants", "show", first, "--json"))
        assert (shown["name"], shown["partner_id"], shown["status"]) == ("Shop Uno", partner, "active")
        assert shown["roles"] == ["admin", "developer", "viewer"]

    def test_unknown_tenant_fails_with_a_message(self, database: Settings) -> None:
        result = run_main(database, "tenants", "show", "tnt_nope")
        assert result.returncode == 1
        assert result.stderr.strip() == "scaisend: Tenant not found: tnt_nope"

    async def test_suspend_and_resume(self, database: Settings, client: httpx.AsyncClient) -> None:
        tenant = last_line(await aok(database, "tenants", "create", "Suspendable"))
        key = last_line(
            await aok(database, "keys", "create", "--tenant", tenant, "--name", "k", "--scope", "stats.read")
        )
        headers = {"Authorization": f"Bearer {key}"}
        assert last_line(await aok(database, "tenants", "suspend", tenant)) == f"{tenant}: suspended"
        assert json.loads(await aok(database, "tenants", "show", tenant, "--json"))["status"] == "suspended"
        refused = await client.get("/v3/scopes", headers=headers)
        assert (refused.status_code, refused.json()) == (403, {"detail": "Tenant suspended"})
        await aok(database, "tenants", "resume", tenant)
        assert (await client.get("/v3/scopes", headers=headers)).status_code == 200


class TestUsersAndRoles:
    async def test_user_created_with_a_role_signs_in_with_its_permissions(
        self, database: Settings, jwt_client: httpx.AsyncClient, jwks_issuer: JwksIssuer
    ) -> None:
        tenant = last_line(await aok(database, "tenants", "create", "People Co"))
        email = f"ann-{uuid.uuid4().hex[:8]}@example.test"
        user = last_line(
            await aok(database, "users", "create", "--tenant", tenant, "--email", email, "--role", "developer")
        )
        assert user.startswith("usr_")
        token = {"Authorization": f"Bearer {jwks_issuer.token(user, tenant)}"}
        scopes = (await jwt_client.get("/v3/scopes", headers=token)).json()["scopes"]
        assert "mail.send" in scopes
        assert "admin.users" not in scopes
        await aok(database, "users", "grant", email, "admin", "--tenant", tenant)
        shown = json.loads(await aok(database, "users", "show", user, "--tenant", tenant, "--json"))
        assert shown["roles"] == ["admin (direct)", "developer (direct)"]
        assert "admin.users" in (await jwt_client.get("/v3/scopes", headers=token)).json()["scopes"]
        await aok(database, "users", "revoke", user, "admin", "--tenant", tenant)
        assert "admin.users" not in (await jwt_client.get("/v3/scopes", headers=token)).json()["scopes"]
        listed = json.loads(await aok(database, "users", "list", "--tenant", tenant, "--json"))
        assert [(u["email"], u["roles"]) for u in listed] == [(email, ["developer (direct)"])]
        roles = json.loads(await aok(database, "roles", "list", "--tenant", tenant, "--json"))
        assert [r["name"] for r in roles] == ["admin", "developer", "viewer"]
        assert "stats.read" in roles[2]["permissions"]
        assert "mail.send" not in roles[2]["permissions"]

    async def test_partner_admin_from_the_cli_sees_the_partners_tenants(
        self, database: Settings, jwt_client: httpx.AsyncClient, jwks_issuer: JwksIssuer
    ) -> None:
        partner = last_line(await aok(database, "partners", "create", "Reseller Two"))
        home = last_line(await aok(database, "tenants", "create", "Home", "--partner", partner))
        other = last_line(await aok(database, "tenants", "create", "Customer", "--partner", partner))
        user = last_line(
            await aok(
                database,
                *("users", "create", "--tenant", home, "--role", "viewer"),
                *("--email", f"boss-{uuid.uuid4().hex[:8]}@x.test"),
            )
        )
        await aok(database, "partners", "add-admin", partner, user)
        token = {"Authorization": f"Bearer {jwks_issuer.token(user, home)}"}
        response = await jwt_client.get("/api/admin/tenants", headers=token)
        assert {t["id"] for t in response.json()["data"]} == {home, other}

    async def test_an_email_shared_by_two_users_is_refused(self, database: Settings) -> None:
        tenant = last_line(await aok(database, "tenants", "create", "Shared Mail"))
        email = f"shared-{uuid.uuid4().hex[:8]}@example.test"
        for _ in range(2):
            await aok(database, "users", "create", "--tenant", tenant, "--email", email)
        result = await asyncio.to_thread(run_main, database, "users", "grant", email, "admin", "--tenant", tenant)
        assert result.returncode == 1
        assert result.stderr.strip() == f"scaisend: Several users have the email {email}: give the user id"

    async def test_custom_role_from_the_cli(self, database: Settings) -> None:
        tenant = last_line(await aok(database, "tenants", "create", "Custom Roles"))
        created = json.loads(
            await aok(
                database,
                *("roles", "create", "sender", "--tenant", tenant, "--json"),
                *("--permission", "mail.send", "--permission", "stats.read"),
            )
        )
        assert (created["name"], created["permissions"]) == ("sender", ["mail.send", "stats.read"])
        roles = json.loads(await aok(database, "roles", "list", "--tenant", tenant, "--json"))
        assert [r["name"] for r in roles] == ["admin", "developer", "sender", "viewer"]
        bad = await asyncio.to_thread(
            run_main, database, "roles", "create", "odd", "--tenant", tenant, "--permission", "mail.fly"
        )
        assert (bad.returncode, bad.stderr.strip()) == (1, "scaisend: Unknown permission: mail.fly")
