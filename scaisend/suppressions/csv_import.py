"""Parsing a suppression import (docs/suppressions.md ``POST /v3/suppression/bounces/import``): CSV with a header row naming
an ``email`` column and optionally a ``reason`` column (any order, case-insensitive, other columns ignored).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first address row 2. Blank rows are ignored.
Parsing only: the service validates each address (an invalid one becomes a per-row error) and writes the rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from scaisend.errors import BadRequestError

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class ImportRow:
    row: int
    email: str  # as written in the file
    reason: str | None


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True)
class ParsedImport:
    rows: list[ImportRow]
    errors: list[RowError]


def decode(body: bytes) -> str:
    """The CSV text of a request body (UTF-8, with or without a byte-order mark); 400 otherwise."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequestError("CSV must be UTF-8 encoded") from None


def _columns(header: list[str]) -> tuple[int, int | None]:
    names = [h.strip().lower() for h in header]
    if "email" not in names:
        raise BadRequestError("The CSV header row must name an 'email' column")
    return names.index("email"), (names.index("reason") if "reason" in names else None)


def _cell(record: list[str], index: int | None) -> str:
    return record[index].strip() if index is not None and index < len(record) else ""


def parse_csv(text: str) -> ParsedImport:
    """The address rows, and an error for a malformed line; 400 when there is no usable header."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BadRequestError("The CSV is empty") from None
    except csv.Error as exc:
        raise BadRequestError(f"Malformed CSV: {exc}") from None
    email_at, reason_at = _columns(header)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    number = 1
    try:
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            reason = _cell(record, reason_at)[:MAX_REASON_LENGTH] or None
            rows.append(ImportRow(number, _cell(record, email_at), reason))
    except csv.Error as exc:
        errors.append(RowError(number + 1, f"Malformed CSV: {exc}"))
    return ParsedImport(rows, errors)
