"""Storing the MIME takes no InnoDB gap lock (it was the cause of compose deadlocks under load, error 1213): while
one compose's transaction is still open after storing its message's bytes, another compose can store a
neighbouring message's bytes without waiting. On a database of the test's own, so both keys fall in one gap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from scaisend.compose.steps import store_mime
from scaisend.models import Message
from tests.factories.compose import make_message
from tests.factories.tenants import make_tenant
from tests.harness.database import OwnDatabase


@pytest.mark.timeout(60)
async def test_a_second_store_does_not_wait_for_the_first(own_database: OwnDatabase) -> None:
    tenant = await make_tenant(own_database.maker)
    first = await make_message(own_database.maker, tenant.tenant_id)
    second = await make_message(own_database.maker, tenant.tenant_id)
    now = datetime.now(UTC)
    async with own_database.maker() as a, own_database.maker() as b:
        message_a = await a.get(Message, first)
        assert message_a is not None
        await store_mime(a, message_a, b"first", now)  # a's transaction stays open
        await b.execute(text("SET SESSION innodb_lock_wait_timeout = 3"))
        message_b = await b.get(Message, second)
        assert message_b is not None
        try:
            await store_mime(b, message_b, b"second", now)
        except OperationalError as exc:  # 1205 lock wait timeout: b waited on a's gap lock
            pytest.fail(f"storing the second message waited for the first one's transaction: {exc.orig}")
        await b.commit()
        await a.commit()
