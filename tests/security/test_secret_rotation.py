"""Issue 9 finding 4, rotation finished (D71): after ``SECRET_KEY_PREVIOUS=old SECRET_KEY=new``, ``scaisend secrets
reencrypt`` (a real process) re-encrypts every stored secret under the new key, reports counts, changes nothing on a
second run, and afterwards the old key is needed for nothing: DKIM signing keys, webhook signing and OAuth client
secrets, the Event Webhook key and sign-in refresh tokens all read with the new key alone."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from scaisend.auth import sessions
from scaisend.crypto import DecryptionError, encrypt
from scaisend.db.session import unit_of_work
from scaisend.domains.service import sending_domain, signing_key
from scaisend.models import Base, EventWebhookSettings, RefreshToken, WebhookEndpoint
from scaisend.secret_rotation import ENCRYPTED_COLUMNS
from scaisend.settings import Settings
from scaisend.webhooks.service import OAuthInput
from scaisend.webhooks.stored_secrets import Purpose, oauth_client, unseal
from tests.factories.delivery import Sender, make_sender
from tests.factories.tenants import make_user
from tests.factories.webhooks import make_endpoint, make_event_webhook
from tests.harness.database import OwnDatabase
from tests.harness.processes import run_cli

NEW_KEY = secrets.token_urlsafe(40)


def test_every_encrypted_column_is_listed() -> None:
    encrypted = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_encrypted")
    } | {"refresh_tokens.provider_refresh_token"}
    assert {column.name for column in ENCRYPTED_COLUMNS} == encrypted


def reencrypt(settings: Settings) -> tuple[int, dict[str, dict[str, Any]], str]:
    done = run_cli(settings, "secrets", "reencrypt", "--json")
    rows = json.loads(done.stdout) if done.stdout.strip() else []
    return done.returncode, {row["column"]: row for row in rows}, done.stderr


async def read_everything(db: OwnDatabase, settings: Settings, sender: Sender, refresh: str) -> dict[str, str]:
    """Each stored secret through the code that uses it, with ``settings``' keys."""
    async with unit_of_work(db.maker) as session:
        domain = await sending_domain(session, sender.tenant_id, sender.address)
        assert domain is not None
        _, pem = await signing_key(session, settings, domain)
        endpoint = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == sender.tenant_id))
        hook = await session.get(EventWebhookSettings, sender.tenant_id)
        assert endpoint is not None
        assert hook is not None
        assert hook.private_key_encrypted
        endpoint_oauth = oauth_client(
            settings, endpoint.oauth_client_id, endpoint.oauth_client_secret_encrypted, endpoint.oauth_token_url
        )
        hook_oauth = oauth_client(
            settings, hook.oauth_client_id, hook.oauth_client_secret_encrypted, hook.oauth_token_url
        )
        assert endpoint_oauth is not None
        assert hook_oauth is not None
        held = await sessions.take(session, settings, refresh, datetime.now(UTC))
        assert held is not None
        values = {
            "dkim": pem.decode()[:27],
            "signing": unseal(settings, Purpose.SIGNING_SECRET, endpoint.signing_secret_encrypted),
            "endpoint_oauth": endpoint_oauth.client_secret,
            "event_webhook_key": unseal(settings, Purpose.EVENT_WEBHOOK_KEY, hook.private_key_encrypted)[:27],
            "event_webhook_oauth": hook_oauth.client_secret,
            "provider_refresh_token": held.provider_refresh_token,
        }
        await session.rollback()  # take() revokes the refresh token; keep it for the next read
    return values


@pytest.mark.timeout(180)
async def test_rotation_then_reencrypt_leaves_nothing_needing_the_old_key(own_database: OwnDatabase) -> None:
    old = own_database.settings
    rotated = old.model_copy(update={"SECRET_KEY": NEW_KEY, "SECRET_KEY_PREVIOUS": old.SECRET_KEY})
    new_only = old.model_copy(update={"SECRET_KEY": NEW_KEY, "SECRET_KEY_PREVIOUS": ""})
    maker = own_database.maker
    sender = await make_sender(maker, old)
    _, signing = await make_endpoint(
        maker,
        old,
        sender.tenant_id,
        "http://127.0.0.1:9/hook",
        oauth=OAuthInput("cid", "csecret", "http://127.0.0.1:9/t"),
    )
    await make_event_webhook(
        maker,
        old,
        sender.tenant_id,
        "http://127.0.0.1:9/events",
        signed=True,
        oauth_client_id="cid2",
        oauth_client_secret="csecret2",
        oauth_token_url="http://127.0.0.1:9/t2",
    )
    user = await make_user(maker, sender.tenant_id, "admin")
    async with unit_of_work(maker) as session:
        refresh = await sessions.issue(
            session,
            old,
            user_id=user,
            tenant_id=sender.tenant_id,
            provider_refresh_token="prov-rt",
            now=datetime.now(UTC),
        )
    expected = await read_everything(own_database, old, sender, refresh)
    assert expected["signing"] == signing
    assert expected["dkim"] == "-----BEGIN PRIVATE KEY-----"
    with pytest.raises(DecryptionError):  # before the run the new key alone reads nothing
        await read_everything(own_database, new_only, sender, refresh)

    code, first, stderr = reencrypt(rotated)
    assert code == 0, stderr
    assert set(first) == {column.name for column in ENCRYPTED_COLUMNS}
    assert all(row["unreadable"] == 0 and row["current"] == 0 for row in first.values())
    assert all(row["reencrypted"] >= 1 for row in first.values())

    code, second, stderr = reencrypt(rotated)  # idempotent
    assert code == 0, stderr
    assert {name: (row["reencrypted"], row["current"]) for name, row in second.items()} == {
        name: (0, row["reencrypted"]) for name, row in first.items()
    }
    assert await read_everything(own_database, new_only, sender, refresh) == expected

    async with unit_of_work(maker) as session:  # a value no listed key can read is reported, and fails the run
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user)
            .values(provider_refresh_token=encrypt(secrets.token_urlsafe(40), "x", sessions.ENCRYPTION_PURPOSE))
        )
    code, third, stderr = reencrypt(rotated)
    assert code == 1
    assert third["refresh_tokens.provider_refresh_token"]["unreadable"] == 1
    assert "SECRET_KEY_PREVIOUS" in stderr
