"""Fixtures for the alert tests: the rule and Alertmanager files rendered fresh from code into a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts import generate


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("alerts-out")
    generate.write(out)
    return out


@pytest.fixture(scope="module")
def rules_file(generated_dir: Path) -> Path:
    return generated_dir / generate.RULES_FILE


@pytest.fixture(scope="module")
def alertmanager_file(generated_dir: Path) -> Path:
    return generated_dir / generate.ALERTMANAGER_FILE
