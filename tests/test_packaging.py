"""What ``pip install .`` (the Dockerfile, a production venv) ships: setuptools only packages folders with an
``__init__.py``, so a folder of modules without one works in the editable dev install and is missing in production."""

from __future__ import annotations

from pathlib import Path

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
