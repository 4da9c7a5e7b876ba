"""Effective tracking settings of one message (docs/compose.md): the request's ``tracking_settings`` deep-merged over the
tenant's defaults (the ``tracking_settings`` row's JSON over :data:`DEFAULT_TRACKING`), plus the
``mail_settings.footer`` of the request.

Tenant defaults are stored flat (``open_tracking_enabled``, ``utm_source`` …); they are lifted into SendGrid's nested
request shape (``{"open_tracking": {"enable": …}}``) so the two merge key by key. A ``null`` in the request leaves the
tenant's value in place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.config_cache import ConfigCache
from scaisend.models import DEFAULT_TRACKING, TrackingSettings

UTM_PARAMS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_term", "utm_content", "utm_campaign")


@dataclass(frozen=True)
class TrackingConfig:
    """What instrumentation applies to one message."""

    open_enabled: bool = False
    open_substitution_tag: str | None = None
    click_enabled: bool = False
    click_enable_text: bool = False
    subscription_enabled: bool = False
    subscription_text: str | None = None
    subscription_html: str | None = None
    subscription_substitution_tag: str | None = None
    ganalytics_enabled: bool = False
    utm: dict[str, str] = field(default_factory=dict)
    image_embed_mode: str = "proxy"


@dataclass(frozen=True)
class Footer:
    """``mail_settings.footer`` when enabled."""

    text: str | None = None
    html: str | None = None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, recursing into mappings; ``None`` values in ``override`` are ignored."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def nested_defaults(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat tenant settings (the :data:`DEFAULT_TRACKING` keys) in SendGrid's ``tracking_settings`` shape."""
    values = {**DEFAULT_TRACKING, **{k: v for k, v in flat.items() if v is not None}}
    return {
        "open_tracking": {
            "enable": values["open_tracking_enabled"],
            "substitution_tag": values["open_tracking_substitution_tag"],
        },
        "click_tracking": {
            "enable": values["click_tracking_enabled"],
            "enable_text": values["click_tracking_enable_text"],
        },
        "subscription_tracking": {
            "enable": values["subscription_tracking_enabled"],
            "text": values["subscription_tracking_text"],
            "html": values["subscription_tracking_html"],
            "substitution_tag": values["subscription_tracking_substitution_tag"],
        },
        "ganalytics": {"enable": values["ganalytics_enabled"], **{p: values[p] for p in UTM_PARAMS}},
        "image_embed_mode": values["image_embed_mode"],
    }


def _section(merged: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = merged.get(name)
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def effective_tracking(
    tenant_settings: Mapping[str, Any] | None, request_settings: Mapping[str, Any] | None
) -> TrackingConfig:
    """The request's ``tracking_settings`` over the tenant's stored settings over the built-in defaults."""
    merged = deep_merge(nested_defaults(tenant_settings or {}), request_settings or {})
    opens, clicks = _section(merged, "open_tracking"), _section(merged, "click_tracking")
    subscription, ganalytics = _section(merged, "subscription_tracking"), _section(merged, "ganalytics")
    return TrackingConfig(
        open_enabled=opens.get("enable") is True,
        open_substitution_tag=_text(opens.get("substitution_tag")),
        click_enabled=clicks.get("enable") is True,
        click_enable_text=clicks.get("enable_text") is True,
        subscription_enabled=subscription.get("enable") is True,
        subscription_text=_text(subscription.get("text")),
        subscription_html=_text(subscription.get("html")),
        subscription_substitution_tag=_text(subscription.get("substitution_tag")),
        ganalytics_enabled=ganalytics.get("enable") is True,
        utm={p: str(ganalytics[p]) for p in UTM_PARAMS if _text(ganalytics.get(p))},
        image_embed_mode=str(merged.get("image_embed_mode") or "proxy"),
    )


def footer_setting(mail_settings: Mapping[str, Any] | None) -> Footer | None:
    """The enabled ``mail_settings.footer`` of a request, or ``None``."""
    footer = (mail_settings or {}).get("footer")
    if not isinstance(footer, Mapping) or footer.get("enable") is not True:
        return None
    return Footer(text=_text(footer.get("text")), html=_text(footer.get("html")))


_STORED: ConfigCache[str, dict[str, Any]] = ConfigCache()  # by tenant id (D82)


async def tenant_tracking(session: AsyncSession, tenant_id: str) -> dict[str, Any]:
    """The tenant's stored tracking settings (flat keys), ``{}`` when it never set any; cached per process (D82),
    each caller gets its own copy."""

    async def load() -> dict[str, Any]:
        stored = await session.scalar(select(TrackingSettings.settings).where(TrackingSettings.tenant_id == tenant_id))
        return copy.deepcopy(dict(stored or {}))

    return copy.deepcopy(await _STORED.get(tenant_id, load))
