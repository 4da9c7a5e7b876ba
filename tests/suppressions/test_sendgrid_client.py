"""The official ``sendgrid`` Python client, unchanged but for its host, manages suppressions against the real
``scaisend serve`` (docs/webhooks.md, D7: query strings sorted, JSON bodies on DELETE, ``._("global")``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from python_http_client.exceptions import BadRequestsError, NotFoundError  # type: ignore[import-untyped]
from sendgrid import SendGridAPIClient  # type: ignore[import-untyped]

from scaisend.settings import Settings
from tests.factories.api_server import running_api
from tests.factories.tenants import TenantKey

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def api_url(database: Settings) -> Iterator[str]:
    with running_api(database) as base:
        yield base


def _json(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def _bounces_round_trip(base: str, key: str) -> dict[str, Any]:
    sg = SendGridAPIClient(key, host=base)
    bounces = sg.client.suppression.bounces
    for email in ("one@example.test", "two@example.test", "three@example.test"):
        created = bounces.post(request_body={"email": email, "reason": "550 5.1.1 User unknown"})
        assert created.status_code == 201
    listed = _json(bounces.get(query_params={"limit": 2, "offset": 0}))
    one = _json(bounces._("one@example.test").get())
    with pytest.raises(BadRequestsError) as refused:
        bounces.delete()
    deleted = bounces.delete(request_body={"emails": ["one@example.test", "two@example.test"]})
    left = _json(bounces.get())
    bounces.delete(query_params={"delete_all": "true"})
    with pytest.raises(NotFoundError):
        bounces._("three@example.test").get()
    return {
        "listed": listed,
        "one": one,
        "refused": refused.value.to_dict,
        "deleted": deleted.status_code,
        "left": left,
    }


def _global_round_trip(base: str, key: str) -> dict[str, Any]:
    sg = SendGridAPIClient(key, host=base)
    added = sg.client.asm.suppressions._("global").post(request_body={"recipient_emails": ["Quit@example.test"]})
    found = _json(sg.client.asm.suppressions._("global")._("quit@example.test").get())
    group = _json(sg.client.asm.groups.post(request_body={"name": "Weekly", "description": "News"}))
    sg.client.asm.groups._(group["id"]).suppressions.post(request_body={"recipient_emails": ["r@example.test"]})
    members = _json(sg.client.asm.groups._(group["id"]).suppressions.get())
    return {"added": (added.status_code, _json(added)), "found": found, "group": group, "members": members}


async def test_bounces_through_the_sendgrid_client(api_url: str, tenant: TenantKey) -> None:
    result = await asyncio.to_thread(_bounces_round_trip, api_url, tenant.key)
    assert result["listed"]["total"] == 3
    assert len(result["listed"]["bounces"]) == 2
    assert [b["email"] for b in result["one"]] == ["one@example.test"]
    assert result["refused"]["detail"].startswith("delete_all=true is required")
    assert result["deleted"] == 204
    assert [b["email"] for b in result["left"]["bounces"]] == ["three@example.test"]


async def test_global_and_group_unsubscribes_through_the_sendgrid_client(api_url: str, tenant: TenantKey) -> None:
    result = await asyncio.to_thread(_global_round_trip, api_url, tenant.key)
    assert result["added"] == (201, {"recipient_emails": ["quit@example.test"]})
    assert result["found"] == {"recipient_email": "quit@example.test"}
    assert isinstance(result["group"]["id"], int)
    assert result["members"] == ["r@example.test"]
