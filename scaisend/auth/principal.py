"""The authenticated caller: which tenant, which scopes, and through which credential."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    scopes: frozenset[str]
    kind: str  # "api_key" | "jwt"
    api_key_id: str | None = None
    user_id: str | None = None
    environment: str = "live"  # an sg_test_ key makes every send a sandbox send (docs/sending.md)

    @property
    def is_test(self) -> bool:
        return self.environment == "test"

    def has(self, scope: str) -> bool:
        return scope in self.scopes
