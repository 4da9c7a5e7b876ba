"""The SMTP envelope of a message (D12, spec §6.1): the VERP return path, and recipients grouped by domain.

The envelope sender is ``bounces+<message_id>@<BOUNCE_DOMAIN>``, so a DSN that comes back days later names the
message it is about; :func:`message_id_from_verp` reads it back for the inbound stage. The recipients themselves
(``to``, ``cc`` and ``bcc`` of the message's one personalization, minus those compose dropped) come from
:func:`scaisend.compose.recipients.envelope_recipients`; :func:`by_domain` groups them for delivery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

VERP_LOCAL_PREFIX = "bounces+"
_VERP_RE = re.compile(r"^bounces\+([A-Za-z0-9_]+)@(.+)$", re.IGNORECASE)


def verp_sender(message_id: str, bounce_domain: str) -> str:
    """``bounces+msg_01j…@bounces.example.com``."""
    return f"{VERP_LOCAL_PREFIX}{message_id}@{bounce_domain}"


def message_id_from_verp(address: str, bounce_domain: str | None = None) -> str | None:
    """The message id inside a VERP address (angle brackets allowed), or ``None`` when ``address`` is not one
    (or, with ``bounce_domain``, not one of ours)."""
    match = _VERP_RE.match(address.strip().strip("<>"))
    if match is None:
        return None
    if bounce_domain is not None and match.group(2).lower() != bounce_domain.lower():
        return None
    return match.group(1)


def recipient_domain(email: str) -> str:
    """The lower-case domain of an address (``""`` when it has none)."""
    _, at, domain = email.rpartition("@")
    return domain.strip().rstrip(".").lower() if at else ""


def by_domain(emails: Iterable[str]) -> dict[str, list[str]]:
    """Recipients grouped by domain, in first-seen order."""
    groups: dict[str, list[str]] = {}
    for email in emails:
        groups.setdefault(recipient_domain(email), []).append(email)
    return groups
