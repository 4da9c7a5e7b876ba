"""A small real OpenID Connect provider on loopback for the sign-in tests (issue 11): discovery, authorize (it signs
in whoever the test names, at once), token (authorization code with PKCE S256 checked, refresh with rotation),
revocation and JWKS, over real HTTP. Tokens are RS256 JWTs signed with joserfc; the access token carries ``sub`` and
``tenant_id``, so the API verifies it through ``SCAIKEY_JWKS_URL`` like any issuer's."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "scaisend-test"
CLIENT_SECRET = "s3cret-of-the-test-client"
REDIRECT_URI = "https://app.example.test/auth/callback"


@dataclass
class Person:
    """Who signs in at the provider next: the claims of the ID token."""

    sub: str
    tenant_id: str
    email: str = "ann@example.test"
    given_name: str = "Ann"
    family_name: str = "Example"
    groups: list[str] | None = None

    def claims(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sub": self.sub,
            "tenant_id": self.tenant_id,
            "email": self.email,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "name": f"{self.given_name} {self.family_name}",
        }
        if self.groups is not None:
            out["groups"] = list(self.groups)
        return out


@dataclass
class _Grant:
    person: Person
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class OidcProvider:
    person: Person | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "oidc-1"}))
    codes: dict[str, _Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Person] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        provider = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery())
                elif url.path == "/jwks":
                    self._send(200, KeySet([provider.key]).as_dict(private=False))
                elif url.path == "/authorize":
                    status, location = provider.authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                    self._send(status, None if location else {"error": "invalid_request"}, {"Location": location})
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                url = urlparse(self.path)
                if url.path == "/token":
                    status, body = provider.token(form, self.headers.get("Authorization", ""))
                    self._send(status, body)
                elif url.path == "/revoke":
                    provider.revoked.append(form.get("token", ""))
                    provider.refresh_tokens.pop(form.get("token", ""), None)
                    self._send(200, {})
                else:
                    self._send(404, {"error": "not_found"})

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "revocation_endpoint": f"{self.issuer}/revoke",
            "jwks_uri": self.jwks_url,
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": "oidc-1"}, claims, self.key)

    def access_token(self, sub: str, tenant_id: str, ttl: int = 3600) -> str:
        now = int(time.time())
        return self._sign({"iss": self.issuer, "sub": sub, "tenant_id": tenant_id, "iat": now, "exp": now + ttl})

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        if (
            query.get("client_id") != CLIENT_ID
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or not query.get("state")
            or self.person is None
        ):
            return 400, ""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = _Grant(self.person, query["redirect_uri"], query["code_challenge"], query["nonce"])
        return 302, f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def _tokens(self, person: Person, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = person
        body: dict[str, Any] = {
            "access_token": self.access_token(person.sub, person.tenant_id),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
        }
        if nonce is not None:
            claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce}
            body["id_token"] = self._sign({**person.claims(), **claims})
        return body

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                if (
                    grant is None
                    or grant.redirect_uri != form.get("redirect_uri")
                    or create_s256_code_challenge(verifier) != grant.challenge
                ):
                    return 400, {"error": "invalid_grant"}
                return 200, self._tokens(grant.person, grant.nonce)
            if form.get("grant_type") == "refresh_token":
                person = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotation: used once
                if person is None:
                    return 400, {"error": "invalid_grant"}
                return 200, self._tokens(person, None)
        return 400, {"error": "unsupported_grant_type"}


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()
