"""Fixtures for the deploy bundle tests: the bundle regenerated into a temporary root, once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import generate


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary root holding a fresh ``python -m deploy.generate --root`` output."""
    root = tmp_path_factory.mktemp("bundle")
    generate.main(["--root", str(root)])
    return root
