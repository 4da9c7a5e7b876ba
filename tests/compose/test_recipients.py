"""Recipients of a message and the envelope delivery sends to (minus the dropped ones)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scaisend.compose.recipients import Recipient, envelope_recipients, recipients_of
from scaisend.compose.tasks import process_email
from scaisend.db.session import unit_of_work
from scaisend.models import Message
from tests.factories.compose import add_suppression, make_message, personalization
from tests.factories.tenants import TenantKey


class TestRecipientsOf:
    def test_order_names_and_no_repeats(self) -> None:
        found = recipients_of(
            {
                "to": [{"email": "a@x.test", "name": "A"}, {"email": "A@X.test"}],
                "cc": [{"email": "c@x.test"}],
                "bcc": [{"email": "b@x.test"}, {"email": ""}],
            }
        )
        assert found == [
            Recipient("a@x.test", "A", "to"),
            Recipient("c@x.test", None, "cc"),
            Recipient("b@x.test", None, "bcc"),
        ]


class TestEnvelopeRecipients:
    async def test_dropped_recipients_are_not_in_the_envelope(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        await add_suppression(maker, tenant.tenant_id, "bcc-gone@example.test", "unsubscribe")
        person = personalization(
            "to@example.test",
            cc=[{"email": "cc@example.test"}],
            bcc=[{"email": "bcc-gone@example.test"}, {"email": "bcc@example.test"}],
        )
        message_id = await make_message(maker, tenant.tenant_id, personalization_=person)
        await process_email(compose_ctx, message_id)

        async with unit_of_work(maker) as session:
            message = await session.scalar(select(Message).where(Message.id == message_id))
            assert message is not None
            assert await envelope_recipients(session, message) == [
                "to@example.test",
                "cc@example.test",
                "bcc@example.test",
            ]
