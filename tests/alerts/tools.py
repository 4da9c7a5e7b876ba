"""Test-only helpers: run promtool and amtool, and render alert annotations the way Prometheus does.

The Debian packages ``prometheus`` and ``prometheus-alertmanager`` provide the binaries (docs/observability.md);
tests that need one are skipped with the install command as the reason when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed: apt-get install -y prometheus")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None, reason="amtool not installed: apt-get install -y prometheus-alertmanager"
)
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None, reason="alertmanager not installed: apt-get install -y prometheus-alertmanager"
)


def run(tool: str | None, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert tool is not None
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


# --- Prometheus template functions used in our descriptions (prometheus/template/template.go) ---------------------
def _g4(value: float) -> str:
    return f"{value:.4g}"


def humanize(value: float) -> str:
    if value == 0:
        return _g4(value)
    if abs(value) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
        return _g4(value) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return _g4(value) + prefix


def humanize_percentage(value: float) -> str:
    return _g4(value * 100) + "%"


def humanize_duration(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1:
        whole = int(value)
        days, hours, minutes, seconds = whole // 86400, whole // 3600 % 24, whole // 60 % 60, whole % 60
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(value)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if value == 0 or value >= 1:
            break
        prefix, value = p, value * 1000
    return f"{sign}{_g4(value)}{prefix}s"


FUNCTIONS = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
_LABEL = re.compile(r"\{\{ \$labels\.(\w+) \}\}")
_VALUE = re.compile(r"\{\{ \$value \| (\w+) \}\}")


def render_annotation(template: str, labels: dict[str, str], value: float) -> str:
    """Render the two template forms our rules use; anything else is a test failure."""
    text = _LABEL.sub(lambda m: labels[m.group(1)], template)
    text = _VALUE.sub(lambda m: FUNCTIONS[m.group(1)](value), text)
    assert "{{" not in text, f"unsupported template construct in {template!r}"
    return text
