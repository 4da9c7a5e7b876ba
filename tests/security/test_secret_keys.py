"""Issue 9 finding 4: a known SECRET_KEY let anyone forge tracking and unsubscribe tokens. Outside development the
processes refuse a default, placeholder, short or repetitive key (naming the setting); keys rotate (the first signs
and encrypts, every listed key verifies and decrypts); an unsubscribe token only acts for a recipient of its message.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend import crypto
from scaisend.api.asgi import app_factory
from scaisend.db.session import unit_of_work
from scaisend.models import Suppression
from scaisend.settings import Settings, SettingsError, load_settings, require_secret_keys
from scaisend.tracking.tokens import TokenKind, sign_token, verify_token
from tests.factories.sent import SentMessage, make_sent_message
from tests.factories.tenants import TenantKey
from tests.harness.processes import run_cli
from tests.harness.settings import make_settings

STRONG = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c"
OLD = "1a3c5e7f9b2d4f6a8c0e2a4c6e8f0b2d"
WEAK_KEYS = [
    pytest.param("change-me-in-production-please-32+chars", id="settings-default"),
    pytest.param("CHANGE-ME-generate-with-openssl-rand-hex-32", id="bundle-placeholder"),
    pytest.param("s3cr3t-but-only-24-chars", id="short"),
    pytest.param("ab" * 20, id="repetitive"),
]


class TestRefusesGuessableKeys:
    @pytest.mark.parametrize("key", WEAK_KEYS)
    def test_api_does_not_start(self, key: str) -> None:
        result = run_cli(make_settings(SECRET_KEY=key, ENVIRONMENT="production"), "serve", timeout=30)
        assert result.returncode == 2, result.stderr
        assert "SECRET_KEY" in result.stderr
        assert "openssl rand -hex 32" in result.stderr

    @pytest.mark.parametrize("command", ["worker", "smtp"])
    def test_workers_do_not_start(self, command: str) -> None:
        result = run_cli(make_settings(SECRET_KEY=WEAK_KEYS[0].values[0], ENVIRONMENT="test"), command, timeout=30)
        assert result.returncode == 2, result.stderr
        assert "SECRET_KEY is a default or placeholder value" in result.stderr

    def test_weak_previous_key_is_named(self) -> None:
        settings = make_settings(SECRET_KEY=STRONG, SECRET_KEY_PREVIOUS=f"{OLD},short-old-key", ENVIRONMENT="test")
        result = run_cli(settings, "queues", timeout=30)
        assert result.returncode == 2
        assert "SECRET_KEY_PREVIOUS (entry 2) is shorter than 32 characters" in result.stderr

    def test_strong_key_runs_in_production(self) -> None:
        result = run_cli(make_settings(SECRET_KEY=STRONG, ENVIRONMENT="production"), "queues", timeout=30)
        assert result.returncode == 0, result.stderr

    def test_development_accepts_any_key(self) -> None:
        require_secret_keys(make_settings(SECRET_KEY="dev-key-16-chars", ENVIRONMENT="development"))

    def test_api_factory_refuses(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """uvicorn's workers build the app through the factory, each from the environment."""
        monkeypatch.setenv("ENVIRONMENT", "production")
        monkeypatch.delenv("SECRET_KEY", raising=False)
        assert Settings.model_fields["SECRET_KEY"].default == load_settings(_env_file=None).SECRET_KEY
        with pytest.raises(SettingsError, match="SECRET_KEY is a default or placeholder value"):
            app_factory()


class TestRotation:
    def test_token_signed_with_previous_key_still_verifies(self) -> None:
        token = sign_token(OLD, kind=TokenKind.OPEN, message_id="msg_1", recipient="a@b.example")
        assert verify_token((STRONG, OLD), token, kind=TokenKind.OPEN) is not None
        assert verify_token(STRONG, token, kind=TokenKind.OPEN) is None  # once the old key is dropped

    def test_first_key_signs(self) -> None:
        token = sign_token((STRONG, OLD), kind=TokenKind.OPEN, message_id="msg_1", recipient="a@b.example")
        assert verify_token(STRONG, token) is not None
        assert verify_token(OLD, token) is None

    def test_at_rest_values_decrypt_under_previous_key_and_encrypt_under_the_first(self) -> None:
        sealed = crypto.encrypt(OLD, "dkim private key", "purpose")
        assert crypto.decrypt((STRONG, OLD), sealed, "purpose") == "dkim private key"
        fresh = crypto.encrypt((STRONG, OLD), "dkim private key", "purpose")
        assert crypto.decrypt(STRONG, fresh, "purpose") == "dkim private key"
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(STRONG, sealed, "purpose")

    async def test_settings_list_the_keys_in_order(self) -> None:
        settings = make_settings(SECRET_KEY=STRONG, SECRET_KEY_PREVIOUS=f" {OLD} ,")
        assert settings.secret_keys == (STRONG, OLD)


async def _suppressed(app: FastAPI, tenant_id: str) -> list[str]:
    async with unit_of_work(app.state.resources.maker) as session:
        return list(await session.scalars(select(Suppression.email).where(Suppression.tenant_id == tenant_id)))


class TestUnsubscribeTokenRecipient:
    @pytest.fixture
    async def sent(self, app: FastAPI, tenant: TenantKey) -> SentMessage:
        return await make_sent_message(app.state.resources.maker, tenant.tenant_id)

    async def test_token_for_a_stranger_suppresses_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, sent: SentMessage
    ) -> None:
        """The attack with a leaked key: a validly signed token for a real message naming someone else."""
        keys = app.state.resources.settings.secret_keys
        forged = sign_token(keys, kind=TokenKind.UNSUBSCRIBE, message_id=sent.id, recipient="ceo@customer.example")
        one_click = await client.post(f"/t/u/{forged}", content="List-Unsubscribe=One-Click")
        form = await client.post(f"/t/u/{forged}", data={"action": "unsubscribe_all"})
        page = await client.get(f"/t/u/{forged}")
        assert (one_click.status_code, form.status_code, page.status_code) == (404, 404, 404)
        assert await _suppressed(app, tenant.tenant_id) == []

    async def test_the_recipients_own_token_works(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, sent: SentMessage
    ) -> None:
        keys = app.state.resources.settings.secret_keys
        token = sign_token(keys, kind=TokenKind.UNSUBSCRIBE, message_id=sent.id, recipient=sent.recipient.upper())
        response = await client.post(f"/t/u/{token}", content="List-Unsubscribe=One-Click")
        assert response.status_code == 200
        assert await _suppressed(app, tenant.tenant_id) == [sent.recipient]
