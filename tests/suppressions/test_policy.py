"""Suppression policy: which list blocks a recipient, which bypass flag skips it, and group scoping."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from scaisend.db.session import unit_of_work
from scaisend.events.types import DropReason
from scaisend.suppressions.policy import Bypass, drop_reasons
from tests.factories.compose import add_suppression, make_asm_group
from tests.factories.suppressions import drop_reason
from tests.factories.tenants import TenantKey


class TestBypass:
    def test_no_settings_bypass_nothing(self) -> None:
        assert Bypass.from_mail_settings(None) == Bypass()

    def test_list_management_bypasses_every_list(self) -> None:
        assert Bypass.from_mail_settings({"bypass_list_management": {"enable": True}}) == Bypass(True, True, True, True)

    @pytest.mark.parametrize(
        ("flag", "expected"),
        [
            ("bypass_bounce_management", Bypass(bounce=True)),
            ("bypass_spam_management", Bypass(spam=True)),
            ("bypass_unsubscribe_management", Bypass(unsubscribe=True)),
        ],
    )
    def test_each_flag_bypasses_its_list_only(self, flag: str, expected: Bypass) -> None:
        assert Bypass.from_mail_settings({flag: {"enable": True}}) == expected

    def test_disabled_or_malformed_flags_bypass_nothing(self) -> None:
        settings: dict[str, Any] = {"bypass_bounce_management": {"enable": False}, "bypass_spam_management": True}
        assert Bypass.from_mail_settings(settings) == Bypass()


class TestDropReasons:
    async def test_each_list_gives_its_reason(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        for email, kind in [
            ("b@example.test", "bounce"),
            ("s@example.test", "spam_report"),
            ("u@example.test", "unsubscribe"),
        ]:
            await add_suppression(maker, tenant.tenant_id, email, kind)
        async with unit_of_work(maker) as session:
            reasons = await drop_reasons(
                session,
                tenant.tenant_id,
                ["b@example.test", "s@example.test", "u@example.test", "ok@example.test"],
                asm_group_id=None,
                bypass=Bypass(),
            )
        assert reasons == {
            "b@example.test": DropReason.SUPPRESSED_BOUNCE,
            "s@example.test": DropReason.SUPPRESSED_SPAM,
            "u@example.test": DropReason.SUPPRESSED_UNSUBSCRIBE,
        }

    async def test_bounce_wins_when_on_several_lists_and_case_is_ignored(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        await add_suppression(maker, tenant.tenant_id, "both@example.test", "unsubscribe")
        await add_suppression(maker, tenant.tenant_id, "both@example.test", "bounce")
        async with unit_of_work(maker) as session:
            reason = await drop_reason(
                session, tenant.tenant_id, "Both@EXAMPLE.test", asm_group_id=None, bypass=Bypass()
            )
            bypassed = await drop_reason(
                session, tenant.tenant_id, "both@example.test", asm_group_id=None, bypass=Bypass(bounce=True)
            )
        assert reason is DropReason.SUPPRESSED_BOUNCE
        assert bypassed is DropReason.SUPPRESSED_UNSUBSCRIBE

    async def test_group_unsubscribe_applies_to_its_group_only(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        group, other_group = (
            await make_asm_group(maker, tenant.tenant_id),
            await make_asm_group(maker, tenant.tenant_id),
        )
        await add_suppression(maker, tenant.tenant_id, "g@example.test", "group_unsubscribe", group_id=group)
        async with unit_of_work(maker) as session:

            async def reason(asm_group_id: int | None, bypass: Bypass) -> DropReason | None:
                return await drop_reason(
                    session, tenant.tenant_id, "g@example.test", asm_group_id=asm_group_id, bypass=bypass
                )

            assert await reason(group, Bypass()) is DropReason.SUPPRESSED_GROUP
            assert await reason(other_group, Bypass()) is None
            assert await reason(None, Bypass()) is None
            assert await reason(group, Bypass(unsubscribe=True)) is DropReason.SUPPRESSED_GROUP
            assert await reason(group, Bypass.from_mail_settings({"bypass_list_management": {"enable": True}})) is None

    async def test_other_tenants_lists_do_not_apply(
        self, app: FastAPI, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        await add_suppression(maker, other_tenant.tenant_id, "theirs@example.test", "bounce")
        async with unit_of_work(maker) as session:
            assert (
                await drop_reason(session, tenant.tenant_id, "theirs@example.test", asm_group_id=None, bypass=Bypass())
                is None
            )
