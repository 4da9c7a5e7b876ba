"""Effective tracking settings: request over tenant over built-in defaults, and the footer setting."""

from __future__ import annotations

from fastapi import FastAPI

from scaisend.db.session import unit_of_work
from scaisend.tracking.config import (
    Footer,
    TrackingConfig,
    deep_merge,
    effective_tracking,
    footer_setting,
    tenant_tracking,
)
from tests.factories.compose import set_tenant_tracking
from tests.factories.tenants import TenantKey


class TestDeepMerge:
    def test_nested_keys_merge_and_none_keeps_the_base(self) -> None:
        base = {"a": {"x": 1, "y": 2}, "b": 1}
        assert deep_merge(base, {"a": {"y": 3, "x": None}, "c": 4}) == {"a": {"x": 1, "y": 3}, "b": 1, "c": 4}
        assert base == {"a": {"x": 1, "y": 2}, "b": 1}


class TestEffectiveTracking:
    def test_built_in_defaults(self) -> None:
        assert effective_tracking(None, None) == TrackingConfig(open_enabled=True, click_enabled=True)

    def test_request_overrides_tenant_key_by_key(self) -> None:
        tenant = {
            "click_tracking_enable_text": True,
            "subscription_tracking_enabled": True,
            "subscription_tracking_text": "Bye: <% %>",
            "ganalytics_enabled": True,
            "utm_source": "acme",
            "utm_medium": "email",
        }
        request = {
            "open_tracking": {"enable": False, "substitution_tag": "%open%"},
            "subscription_tracking": {"html": "<p><% leave %></p>"},
            "ganalytics": {"utm_medium": "newsletter", "utm_campaign": None},
        }

        assert effective_tracking(tenant, request) == TrackingConfig(
            open_enabled=False,
            open_substitution_tag="%open%",
            click_enabled=True,
            click_enable_text=True,
            subscription_enabled=True,
            subscription_text="Bye: <% %>",
            subscription_html="<p><% leave %></p>",
            ganalytics_enabled=True,
            utm={"utm_source": "acme", "utm_medium": "newsletter"},
        )

    def test_request_can_enable_what_the_tenant_disabled(self) -> None:
        config = effective_tracking({"click_tracking_enabled": False}, {"click_tracking": {"enable": True}})
        assert config.click_enabled is True


class TestFooterSetting:
    def test_enabled_footer(self) -> None:
        assert footer_setting({"footer": {"enable": True, "text": "t", "html": "<p>h</p>"}}) == Footer("t", "<p>h</p>")

    def test_disabled_or_missing(self) -> None:
        assert footer_setting({"footer": {"enable": False, "text": "t"}}) is None
        assert footer_setting(None) is None


class TestTenantTracking:
    async def test_stored_settings_or_empty(self, app: FastAPI, tenant: TenantKey, other_tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        await set_tenant_tracking(maker, tenant.tenant_id, open_tracking_enabled=False)
        async with unit_of_work(maker) as session:
            assert await tenant_tracking(session, tenant.tenant_id) == {"open_tracking_enabled": False}
            assert await tenant_tracking(session, other_tenant.tenant_id) == {}
