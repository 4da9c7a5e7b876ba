"""The hand-off journal: "sent" recorded before "recorded" (docs/delivery.md, "Sent versus recorded").

Between an MX's final reply to DATA and the commit of the events lies a window in which a crash would make the
re-run of the same attempt send the message again. The journal narrows that window to one Redis round trip: each
final per-recipient result is written to a Redis hash ``<prefix>delivery:journal:<message_id>:<attempt>`` as soon as
the transaction returns, and a re-run of that attempt takes those recipients' results from the journal instead of
sending again. The hash is deleted after the commit, and expires on its own after :data:`JOURNAL_TTL`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.asyncio import Redis

from scaisend.delivery.result import DeliveryResult

JOURNAL_TTL = 7 * 24 * 3600


class HandoffJournal:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = prefix

    def key(self, message_id: str, attempt: int) -> str:
        return f"{self._prefix}delivery:journal:{message_id}:{attempt}"

    async def add(self, message_id: str, attempt: int, results: Iterable[DeliveryResult]) -> None:
        """Journal the final results (delivered, bounced, blocked); deferrals are simply tried again."""
        entries = {r.recipient.lower(): json.dumps(r.to_json()) for r in results if r.outcome.is_final}
        if entries:
            key = self.key(message_id, attempt)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping=entries)
                pipe.expire(key, JOURNAL_TTL)
                await pipe.execute()

    async def load(self, message_id: str, attempt: int) -> dict[str, DeliveryResult]:
        """Results already had in this attempt, by lower-case recipient."""
        raw = await self._redis.hgetall(self.key(message_id, attempt))  # type: ignore[misc]
        return {_text(k): DeliveryResult.from_json(json.loads(v)) for k, v in raw.items()}

    async def clear(self, message_id: str, attempt: int) -> None:
        await self._redis.delete(self.key(message_id, attempt))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
