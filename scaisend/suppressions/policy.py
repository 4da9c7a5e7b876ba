"""Which suppression blocks a recipient at compose time (docs/compose.md, docs/suppressions.md), and the ``dropped`` reason it produces.

| list              | drops with               | bypassed by (``mail_settings``)                                |
|-------------------|--------------------------|----------------------------------------------------------------|
| bounce (any type) | ``suppressed_bounce``    | ``bypass_bounce_management`` or ``bypass_list_management``     |
| spam report       | ``suppressed_spam``      | ``bypass_spam_management`` or ``bypass_list_management``       |
| global unsubscribe| ``suppressed_unsubscribe``| ``bypass_unsubscribe_management`` or ``bypass_list_management``|
| group unsubscribe | ``suppressed_group``     | ``bypass_list_management`` only, as SendGrid does               |

A group unsubscribe counts only for a send whose ``asm.group_id`` is that group. When several lists hold an address
the first row of the table wins. Addresses compare case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.events.types import DropReason
from scaisend.models import Suppression, SuppressionKind

_PRIORITY: tuple[tuple[SuppressionKind, DropReason], ...] = (
    (SuppressionKind.BOUNCE, DropReason.SUPPRESSED_BOUNCE),
    (SuppressionKind.SPAM_REPORT, DropReason.SUPPRESSED_SPAM),
    (SuppressionKind.UNSUBSCRIBE, DropReason.SUPPRESSED_UNSUBSCRIBE),
    (SuppressionKind.GROUP_UNSUBSCRIBE, DropReason.SUPPRESSED_GROUP),
)


def _enabled(mail_settings: Mapping[str, Any], name: str) -> bool:
    value = mail_settings.get(name)
    return isinstance(value, Mapping) and value.get("enable") is True


@dataclass(frozen=True)
class Bypass:
    """The lists a send skips, from its ``mail_settings`` bypass flags."""

    bounce: bool = False
    spam: bool = False
    unsubscribe: bool = False
    group: bool = False

    @classmethod
    def from_mail_settings(cls, mail_settings: Mapping[str, Any] | None) -> Bypass:
        ms = mail_settings or {}
        everything = _enabled(ms, "bypass_list_management")
        return cls(
            bounce=everything or _enabled(ms, "bypass_bounce_management"),
            spam=everything or _enabled(ms, "bypass_spam_management"),
            unsubscribe=everything or _enabled(ms, "bypass_unsubscribe_management"),
            group=everything,
        )

    def checked_kinds(self, asm_group_id: int | None) -> list[SuppressionKind]:
        skipped = {
            SuppressionKind.BOUNCE: self.bounce,
            SuppressionKind.SPAM_REPORT: self.spam,
            SuppressionKind.UNSUBSCRIBE: self.unsubscribe,
            SuppressionKind.GROUP_UNSUBSCRIBE: self.group or asm_group_id is None,
        }
        return [kind for kind, _ in _PRIORITY if not skipped[kind]]


async def drop_reasons(
    session: AsyncSession, tenant_id: str, emails: Iterable[str], *, asm_group_id: int | None, bypass: Bypass
) -> dict[str, DropReason]:
    """The recipients of ``emails`` that must not be sent to, each with its reason (keys as given)."""
    wanted = list(dict.fromkeys(emails))
    kinds = bypass.checked_kinds(asm_group_id)
    if not wanted or not kinds:
        return {}
    candidates = sorted({e for email in wanted for e in (email, email.lower())})
    rows = await session.execute(
        select(Suppression.email, Suppression.kind, Suppression.group_id).where(
            Suppression.tenant_id == tenant_id,
            Suppression.email.in_(candidates),
            Suppression.kind.in_([k.value for k in kinds]),
        )
    )
    found: dict[str, set[str]] = {}
    for email, kind, group_id in rows:
        if kind == SuppressionKind.GROUP_UNSUBSCRIBE and group_id != asm_group_id:
            continue
        found.setdefault(email.lower(), set()).add(kind)
    reasons: dict[str, DropReason] = {}
    for email in wanted:
        hits = found.get(email.lower(), set())
        reason = next((r for kind, r in _PRIORITY if kind.value in hits), None)
        if reason is not None:
            reasons[email] = reason
    return reasons
