"""The request attachments a message's stored MIME leaves out (D70), read once per SMTP process.

Every personalization of a request is its own message, and each delivery attempt put the request's attachments back
by reading ``send_requests.body`` again: a 20 MB attachment sent to 1,000 recipients read 20 GB from the database.
The request row never changes after it is accepted, and :func:`scaisend.compose.attachment_slots.fill` checks every
attachment against the digest recorded at compose, so a copy kept in memory is as good as a fresh read. The cache is
bounded by the bytes of base64 it holds (:data:`CACHE_BYTES`), keyed by tenant and request."""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.compose.steps import request_body
from scaisend.models import Message

CACHE_BYTES = 64 * 1024 * 1024

Attachments = list[Any]


def _size(attachments: Attachments) -> int:
    return 1 + sum(len(str(a.get("content", ""))) for a in attachments if isinstance(a, dict))


class RequestAttachments:
    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._cache: LRUCache[tuple[str, str], Attachments] = LRUCache(maxsize=max_bytes, getsizeof=_size)

    async def of(self, session: AsyncSession, message: Message) -> Attachments:
        """The attachments of ``message``'s request (empty when it has none); read from the database once."""
        if message.request_id is None:
            return []
        key = (message.tenant_id, message.request_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        attachments = list((await request_body(session, message)).get("attachments") or [])
        if _size(attachments) <= self._cache.maxsize:
            self._cache[key] = attachments
        return attachments
