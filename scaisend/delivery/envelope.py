"""The SMTP envelope of a message (D12, D41, docs/architecture.md, docs/compose.md, docs/delivery.md, D21): the signed VERP return path, and recipients grouped by
domain.

Each recipient gets its own envelope sender ``bounces+<message_id>.<mac>@<BOUNCE_DOMAIN>``, where ``mac`` is 16 hex
digits of HMAC-SHA256 over the message id and that recipient, keyed from ``SECRET_KEY``
(:func:`scaisend.crypto.derive_key`, purpose ``scaisend-return-path``). A DSN that comes back days later therefore
names the message it is about *and* proves which recipient it answers: nobody without the key can make the return path
of an address they never received our mail at, and a recipient sees only their own. The local part stays within
RFC 5321's 64 octets (8 + 30 + 1 + 16). :func:`parse_return_path` reads either form back for the inbound stage; the
unsigned form ``bounces+<message_id>@…`` of mail sent before D41 still parses, but proves nothing.

The recipients themselves (``to``, ``cc`` and ``bcc`` of the message's one personalization, minus those compose
dropped) come from :func:`scaisend.compose.recipients.envelope_recipients`; :func:`by_domain` groups them for
delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scaisend.crypto import derive_key
from scaisend.settings import Settings

VERP_LOCAL_PREFIX = "bounces+"
MAC_HEX_DIGITS = 16  # 64 bits: a forger must guess it online, one report per guess
_PURPOSE = "scaisend-return-path"
# anchored, one failure point: linear (docs/security.md inventory)
_VERP_RE = re.compile(r"^bounces\+([A-Za-z0-9_]+)(?:\.([0-9A-Fa-f]{16}))?@([^@\s]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ReturnPath:
    """A VERP address of ours, read back: the message id and, when signed, the MAC (lowercase hex)."""

    message_id: str
    mac: str | None


def parse_return_path(address: str, bounce_domain: str | None = None) -> ReturnPath | None:
    """The VERP parts of ``address`` (angle brackets allowed), or ``None`` when it is not one (or, with
    ``bounce_domain``, not one of ours)."""
    match = _VERP_RE.match(address.strip().strip("<>"))
    if match is None:
        return None
    if bounce_domain is not None and match.group(3).rstrip(".").lower() != bounce_domain.lower():
        return None
    mac = match.group(2)
    return ReturnPath(match.group(1), mac.lower() if mac else None)


class ReturnPathSigner:
    """Makes and checks signed return paths. The first key signs; every key verifies (key rotation)."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one key is needed")
        self._keys = [derive_key(key, _PURPOSE) for key in secret_keys]

    @classmethod
    def from_settings(cls, settings: Settings) -> ReturnPathSigner:
        """``SECRET_KEY`` signs; it and every ``SECRET_KEY_PREVIOUS`` key verify (issue 9 finding 4's rotation)."""
        return cls(settings.secret_keys)

    @staticmethod
    def _mac(key: bytes, message_id: str, recipient: str) -> str:
        text = f"{message_id.strip().lower()}\n{recipient.strip().lower()}".encode()
        return hmac.new(key, text, hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]

    def sender(self, message_id: str, recipient: str, bounce_domain: str) -> str:
        """``bounces+msg_01j….<mac>@bounces.example.com`` for mail of ``message_id`` to ``recipient``."""
        return f"{VERP_LOCAL_PREFIX}{message_id}.{self._mac(self._keys[0], message_id, recipient)}@{bounce_domain}"

    def signed_recipient(self, path: ReturnPath, recipients: Iterable[str]) -> str | None:
        """The one of ``recipients`` (the matched message's) whose return path ``path`` is, or ``None`` when
        ``path`` is unsigned or signed for nobody among them."""
        if path.mac is None:
            return None
        for recipient in recipients:
            for key in self._keys:
                if hmac.compare_digest(self._mac(key, path.message_id, recipient), path.mac):
                    return recipient
        return None


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
