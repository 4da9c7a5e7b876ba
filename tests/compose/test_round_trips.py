"""A compose writes the message row once (D83): counted with SQLAlchemy's cursor events on the real engine."""

from __future__ import annotations

from typing import Any

from scaisend.compose.tasks import process_email
from scaisend.db.session import unit_of_work
from scaisend.models import Message
from tests.factories.compose import make_message
from tests.factories.tenants import TenantKey
from tests.harness.statements import counted_statements


async def test_a_compose_writes_the_message_row_once(compose_ctx: dict[str, Any], tenant: TenantKey) -> None:
    maker = compose_ctx["maker"]
    message_id = await make_message(maker, tenant.tenant_id)
    with counted_statements(compose_ctx["engine"]) as statements:
        assert await process_email(compose_ctx, message_id) == "rendered"
    assert [s for s in statements if s.startswith("UPDATE messages")] == ["UPDATE messages SET"]
    async with unit_of_work(maker) as session:
        message = await session.get(Message, message_id)
        assert message is not None
        assert (message.status, message.processed_at is not None) == ("rendered", True)
