"""Fixtures for the deploy bundle tests: the bundle regenerated into a temporary root, once per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import generate
from scaisend.settings import Settings
from tests.harness.database import scratch_database


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary root holding a fresh ``python -m deploy.generate --root`` output."""
    root = tmp_path_factory.mktemp("bundle")
    generate.main(["--root", str(root)])
    return root


@pytest.fixture
def empty_database(database: Settings) -> Iterator[Settings]:
    """A MariaDB database of its own with no schema (the per-run one is already at head)."""
    with scratch_database(database, "deploy") as settings:
        yield settings
