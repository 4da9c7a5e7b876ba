"""The reusable tenant-isolation check: tenant B gets 404 for tenant A's resource (and A does not).

Every resource route with a path parameter must be listed in ``tests/test_tenant_isolation.py``; a meta-test
walks the app's routes and fails when one is missing, so new routes cannot skip the check."""

from __future__ import annotations

from typing import Any

import httpx


async def assert_tenant_isolated(
    client: httpx.AsyncClient, method: str, path: str, *, owner: dict[str, str], other: dict[str, str], json: Any = None
) -> None:
    """``other`` (tenant B's credentials) gets 404 with a ``detail``; ``owner`` (tenant A) does not get 404."""
    foreign = await client.request(method, path, headers=other, json=json)
    assert foreign.status_code == 404, f"{method} {path} as another tenant: {foreign.status_code} {foreign.text}"
    body = foreign.json()
    assert "detail" in body or "errors" in body
    own = await client.request(method, path, headers=owner, json=json)
    assert own.status_code != 404, f"{method} {path} as the owner: {own.status_code} {own.text}"
