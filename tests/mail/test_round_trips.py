"""Round trips of the accept path, counted (issue 10; D81, D82): an accepted send with its configuration cached is
two inserts and one commit. Counted with SQLAlchemy's cursor events on the real engine, never timed."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from scaisend.auth.api_keys import KEY_GRANTS
from scaisend.domains.service import SENDING_DOMAINS
from tests.factories.messages import send_body
from tests.factories.tenants import TenantKey
from tests.harness.statements import counted_statements


async def test_an_accepted_send_is_two_inserts(
    app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cache in (KEY_GRANTS, SENDING_DOMAINS):  # the two requests fall in one cache second however slow the machine
        monkeypatch.setattr(cache, "monotonic", lambda: 1_000.0)
    engine = app.state.resources.engine
    assert (
        await client.post("/v3/mail/send", headers=sender.headers, json=send_body("a@example.org"))
    ).status_code == 202
    with counted_statements(engine) as statements:
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body("b@example.org"))
    assert response.status_code == 202
    # the COMMIT is not a cursor statement; the pool's reset ROLLBACK after it is gone (D81)
    assert statements == ["INSERT INTO send_requests", "INSERT INTO messages"]
