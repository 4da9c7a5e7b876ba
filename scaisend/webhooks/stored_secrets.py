"""Webhook secrets at rest (docs/webhooks.md, D6, D7): endpoint signing secrets, OAuth client secrets and the Event Webhook's
ECDSA private key are stored encrypted with ``SECRET_KEY`` (:mod:`scaisend.crypto`), each under its own purpose so
a value cannot be decrypted as another kind."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scaisend.crypto import decrypt, encrypt
from scaisend.settings import Settings


class Purpose(enum.StrEnum):
    SIGNING_SECRET = "webhook-signing-secret"
    OAUTH_CLIENT_SECRET = "webhook-oauth-client-secret"
    OAUTH_TOKEN = "webhook-oauth-token"
    EVENT_WEBHOOK_KEY = "event-webhook-private-key"


def seal(settings: Settings, purpose: Purpose, plaintext: str) -> str:
    return encrypt(settings.secret_keys, plaintext, purpose.value)


def unseal(settings: Settings, purpose: Purpose, ciphertext: str) -> str:
    return decrypt(settings.secret_keys, ciphertext, purpose.value)


@dataclass(frozen=True)
class OAuthClient:
    """OAuth2 client-credentials configuration of a webhook target."""

    client_id: str
    client_secret: str
    token_url: str


def oauth_client(
    settings: Settings, client_id: str | None, secret_encrypted: str | None, token_url: str | None
) -> OAuthClient | None:
    """The target's OAuth client, or ``None`` when OAuth is not configured."""
    if not (client_id and secret_encrypted and token_url):
        return None
    return OAuthClient(client_id, unseal(settings, Purpose.OAUTH_CLIENT_SECRET, secret_encrypted), token_url)
