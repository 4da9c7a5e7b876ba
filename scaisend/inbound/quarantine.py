"""The quarantine folder: inbound mail the listener could not use, kept for inspection under
``INBOUND_QUARANTINE_PATH/<reason>/`` (issue 9, finding 7; D43).

The folder is capped: after each write the oldest files (across all reasons) are deleted until at most
``INBOUND_QUARANTINE_MAX_FILES`` files and ``INBOUND_QUARANTINE_MAX_BYTES`` bytes remain, so a flood of junk costs a
bounded amount of disk and keeps the most recent examples. A write never raises: a full or read-only disk is logged.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from scaisend.settings import Settings

logger = logging.getLogger(__name__)


def _files(root: Path) -> list[tuple[float, int, Path]]:
    """(modification time, size, path) of every kept file, oldest first."""
    found = []
    for folder in root.iterdir() if root.is_dir() else []:
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file() and entry.name.endswith(".eml"):
                    stat = entry.stat()
                    found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
    return sorted(found)


def _trim(settings: Settings, root: Path) -> int:
    """Delete the oldest files beyond the caps; returns how many went."""
    files = _files(root)
    total = sum(size for _, size, _ in files)
    removed = 0
    while files and (
        len(files) > settings.INBOUND_QUARANTINE_MAX_FILES or total > settings.INBOUND_QUARANTINE_MAX_BYTES
    ):
        _, size, path = files.pop(0)
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed


def quarantine(settings: Settings, raw: bytes, reason: str) -> Path | None:
    """Keep ``raw`` under ``INBOUND_QUARANTINE_PATH/<reason>/``, then trim the folder to its caps; the path kept, or
    ``None`` when it could not be written."""
    root = Path(settings.INBOUND_QUARANTINE_PATH)
    try:
        folder = root / reason
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(raw)
        removed = _trim(settings, root)
    except OSError as exc:
        logger.warning("could not keep inbound mail in quarantine", extra={"reason": reason, "error": repr(exc)})
        return None
    if removed:
        logger.info("quarantine trimmed", extra={"removed": removed})
    return path if path.exists() else None
