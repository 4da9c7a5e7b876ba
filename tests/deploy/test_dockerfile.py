"""``deploy/Dockerfile`` cannot be built here (no Docker engine), so its promises are checked as text: the base image,
every shipped package copied, the non-root uid the manifests expect, the state folders, no secrets baked in."""

from __future__ import annotations

import re
import tomllib

import pytest

from deploy import environment
from scaisend.processes import PROCESSES
from tests.deploy.tools import DEPLOY, ROOT

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
INSTRUCTIONS = [line for line in DOCKERFILE.splitlines() if line and not line.startswith("#")]


def test_builds_on_python_3_11_slim() -> None:
    assert [line for line in INSTRUCTIONS if line.startswith("FROM ")] == [
        "FROM python:3.11-slim AS build",
        "FROM python:3.11-slim",
    ]


def test_copies_every_package_the_project_ships() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {match.group(1) for match in re.finditer(r"^COPY (\w+) \./\1$", DOCKERFILE, re.MULTILINE)}
    assert copied == packages
    assert f"COPY pyproject.toml uv.lock {pyproject['project']['readme']} ./" in DOCKERFILE


def test_installs_exactly_the_lock_file_without_development_tools() -> None:
    """The image takes every version from uv.lock (``--frozen``), installs the project itself (not editable) and
    none of the extras; the uv it uses is the Makefile's pinned version."""
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version is not None
    assert f"RUN pip install uv=={uv_version.group(1)}" in INSTRUCTIONS
    sync = [line for line in INSTRUCTIONS if line.startswith("RUN uv sync")]
    assert len(sync) == 1
    assert {"--frozen", "--no-editable", "--no-dev"} <= set(sync[0].split())
    assert "--extra" not in sync[0]
    assert "--all-extras" not in sync[0]


def test_runs_as_the_uid_the_manifests_expect() -> None:
    uid = environment.RUN_AS_UID
    assert f"USER {uid}:{uid}" in INSTRUCTIONS
    assert f"--uid {uid}" in DOCKERFILE


def test_state_folders_exist_and_belong_to_the_user() -> None:
    for state in environment.STATE_PATHS:
        assert state.path in DOCKERFILE
    assert f"chown -R {environment.RUN_AS_UID}:{environment.RUN_AS_UID} {environment.STATE_DIR}" in DOCKERFILE


def test_exposes_every_process_port() -> None:
    (expose,) = [line for line in INSTRUCTIONS if line.startswith("EXPOSE ")]
    ports = {int(port) for port in expose.split()[1:]}
    assert ports == {p.port for p in PROCESSES} | {environment.CONTAINER_INBOUND_SMTP_PORT}


@pytest.mark.parametrize("word", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PASSWORD"])
def test_no_secret_is_baked_in(word: str) -> None:
    assert not any(word in line for line in INSTRUCTIONS if line.startswith(("ENV", "ARG")))
