"""A JWKS issuer on loopback: serves its public keys over real HTTP and mints RS256/ES256 tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class JwksIssuer:
    def __init__(self) -> None:
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.published: dict[str, Any] = {
            "keys": [self._jwk(self.rsa_key, "rsa-1", "RS256"), self._jwk(self.ec_key, "ec-1", "ES256")]
        }
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(issuer.published).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
        algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
        jwk.update(kid=kid, alg=alg, use="sig")
        return jwk

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(
        self,
        sub: str,
        tenant_id: str,
        *,
        alg: str = "RS256",
        kid: str | None = None,
        ttl: int = 3600,
        key: Any = None,
        **claims: Any,
    ) -> str:
        signing_key = key or (self.rsa_key if alg == "RS256" else self.ec_key)
        payload = {"sub": sub, "tenant_id": tenant_id, "iat": int(time.time()), "exp": int(time.time()) + ttl, **claims}
        return jwt.encode(
            payload, signing_key, algorithm=alg, headers={"kid": kid or ("rsa-1" if alg == "RS256" else "ec-1")}
        )


@pytest.fixture(scope="session")
def jwks_issuer() -> Iterator[JwksIssuer]:
    issuer = JwksIssuer()
    issuer.start()
    yield issuer
    issuer.stop()
