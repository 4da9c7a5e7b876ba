"""Per-process cache of per-tenant configuration (D82): API keys, tenants, sender domains, DKIM keys, tracking
settings and webhook subscriptions are read on every send but change rarely, so each process keeps what it read for
at most :data:`CONFIG_CACHE_SECONDS`.

How fast a change is seen:

- in the process that made it: at once. A write to one of :data:`CONFIG_MODELS` (ORM flush, or an ORM
  ``INSERT``/``UPDATE``/``DELETE`` statement on its table) bumps the process's generation, and so does the end
  (commit or rollback) of the transaction that wrote; an entry read under an older generation is never served;
- in every other process (other API workers, the worker, the SMTP service, another replica): within
  :data:`CONFIG_CACHE_SECONDS`, when the entry expires. So a revoked API key, a suspended tenant or an unverified
  sender domain is refused by every process at most one second after the change committed, with no Redis command
  per request and no invalidation message that could be lost.

Entries hold plain frozen values copied out of the rows, never ORM objects (they outlive the session that read
them). An entry records the generation from BEFORE its read, so a read racing with a commit is dropped, not kept.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from scaisend.models import (
    ApiKey,
    DkimKey,
    EventWebhookSettings,
    SenderDomain,
    Tenant,
    TrackingSettings,
    WebhookEndpoint,
)

CONFIG_CACHE_SECONDS = 1.0  # the bound: another process sees a change within a second
CONFIG_MODELS: tuple[type[Any], ...] = (
    ApiKey,
    Tenant,
    SenderDomain,
    DkimKey,
    TrackingSettings,
    WebhookEndpoint,
    EventWebhookSettings,
)
_CONFIG_TABLES = frozenset(model.__tablename__ for model in CONFIG_MODELS)
_CHANGED = "config_changed"  # Session.info flag: this transaction wrote configuration

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Generation:
    value = 0


def generation() -> int:
    """This process's configuration generation: bumped by every commit that wrote configuration."""
    return _Generation.value


def config_changed() -> None:
    """Drop every entry of every cache in this process (also called by the commit hook)."""
    _Generation.value += 1


class ConfigCache(Generic[K, V]):
    """``key → value`` for at most ``ttl`` seconds and never across a configuration change made in this process."""

    def __init__(self, ttl: float = CONFIG_CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self._entries: dict[K, tuple[V, float, int]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value of ``key``, or ``await load()`` (then cached)."""
        now = self.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[2] == _Generation.value and now - entry[1] < self.ttl:
            return entry[0]
        seen = _Generation.value
        value = await load()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # a bound, not an LRU: a process sees far fewer live tenants than this
        self._entries[key] = (value, now, seen)
        return value

    def put(self, key: K, value: V) -> None:
        """Replace a live entry's value (a write this process made that need not invalidate the others)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (value, entry[1], entry[2])


MAX_ENTRIES = 50_000


def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(row, CONFIG_MODELS) for row in (*session.new, *session.dirty, *session.deleted)):
        _written(session)


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _CONFIG_TABLES:
            _written(state.session)


def _written(session: Session) -> None:
    """A write to configuration: dropped at once (the writing transaction reads its own change) and again when the
    transaction ends (what other sessions read meanwhile was the old committed value)."""
    session.info[_CHANGED] = True
    config_changed()


def _transaction_ended(session: Session, *_args: Any) -> None:
    if session.info.pop(_CHANGED, False):
        config_changed()


event.listen(Session, "before_flush", _note_flush)
event.listen(Session, "do_orm_execute", _note_statement)
event.listen(Session, "after_commit", _transaction_ended)
event.listen(Session, "after_rollback", _transaction_ended)
