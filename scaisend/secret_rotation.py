"""Every value stored encrypted under ``SECRET_KEY`` (D45), and re-encrypting them all under the current key after a
rotation (``scaisend secrets reencrypt``, D71).

:data:`ENCRYPTED_COLUMNS` is the one list of encrypted columns; a test holds it equal to the tables' columns named
``*_encrypted`` plus the refresh tokens' provider token. Rows are read in batches by primary key, each batch in its
own transaction; a value is written back only if it still holds what was read (a value the API changed meanwhile is
already under the current key), so the command can run beside the services and any number of times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from scaisend.auth import sessions
from scaisend.crypto import DecryptionError, SecretKeys, decrypt, key_list, reencrypt
from scaisend.db.session import unit_of_work
from scaisend.domains import dkim_keys
from scaisend.models import DkimKey, EventWebhookSettings, RefreshToken, WebhookEndpoint
from scaisend.webhooks.stored_secrets import Purpose

BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    attribute: InstrumentedAttribute[Any]
    purpose: str

    @property
    def name(self) -> str:
        return f"{self.attribute.class_.__tablename__}.{self.attribute.key}"

    @property
    def primary_key(self) -> Column[Any]:
        [key] = self.attribute.class_.__table__.primary_key.columns
        return key


ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(DkimKey.private_key_encrypted, dkim_keys.ENCRYPTION_PURPOSE),
    EncryptedColumn(WebhookEndpoint.signing_secret_encrypted, Purpose.SIGNING_SECRET.value),
    EncryptedColumn(WebhookEndpoint.oauth_client_secret_encrypted, Purpose.OAUTH_CLIENT_SECRET.value),
    EncryptedColumn(EventWebhookSettings.private_key_encrypted, Purpose.EVENT_WEBHOOK_KEY.value),
    EncryptedColumn(EventWebhookSettings.oauth_client_secret_encrypted, Purpose.OAUTH_CLIENT_SECRET.value),
    EncryptedColumn(RefreshToken.provider_refresh_token, sessions.ENCRYPTION_PURPOSE),
)


@dataclass
class ColumnReport:
    """What one run did to one column: values already under the current key, re-encrypted, readable by no key."""

    column: str
    current: int = 0
    reencrypted: int = 0
    unreadable: int = 0

    def as_row(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "current": self.current,
            "reencrypted": self.reencrypted,
            "unreadable": self.unreadable,
        }


def _is_current(keys: SecretKeys, ciphertext: str, purpose: str) -> bool:
    try:
        decrypt(key_list(keys)[0], ciphertext, purpose)
    except DecryptionError:
        return False
    return True


async def _batch(
    session: AsyncSession, keys: SecretKeys, column: EncryptedColumn, after: Any, report: ColumnReport
) -> Any:
    """Re-encrypt one batch of rows after primary key ``after``; the last key seen (``None`` when done)."""
    pk = column.primary_key
    query = select(pk, column.attribute).where(column.attribute.is_not(None)).order_by(pk).limit(BATCH)
    rows = (await session.execute(query if after is None else query.where(pk > after))).all()
    for key, ciphertext in rows:
        if _is_current(keys, ciphertext, column.purpose):
            report.current += 1
            continue
        try:
            fresh = reencrypt(keys, ciphertext, column.purpose)
        except DecryptionError:
            report.unreadable += 1
            continue
        result = await session.execute(
            update(column.attribute.class_)
            .where(pk == key, column.attribute == ciphertext)
            .values({column.attribute.key: fresh})
        )
        if result.rowcount:  # type: ignore[attr-defined]
            report.reencrypted += 1
        else:  # changed since it was read: written by a service, so under the current key
            report.current += 1
    return rows[-1][0] if len(rows) == BATCH else None


async def reencrypt_stored_secrets(
    maker: async_sessionmaker[AsyncSession], keys: SecretKeys, columns: Sequence[EncryptedColumn] = ENCRYPTED_COLUMNS
) -> list[ColumnReport]:
    """Every stored encrypted value under the first of ``keys`` (the current ``SECRET_KEY``); one report per column."""
    reports = []
    for column in columns:
        report = ColumnReport(column.name)
        after: Any = None
        while True:
            async with unit_of_work(maker) as session:
                after = await _batch(session, keys, column, after, report)
            if after is None:
                break
        reports.append(report)
    return reports
