"""``scaisend dev --with-monitoring`` (D16): the hook that will add Prometheus and Alertmanager, run from the
generated configs, as further children of the embedded setup.

Not wired yet: :func:`monitoring_children` reports what it finds and returns no children. When the generated configs
exist, it should write them under ``<data dir>/monitoring/`` with the dev ports (API ``/metrics``, worker, SMTP,
exporter) as scrape targets and return one :class:`~scaisend.dev.children.ChildSpec` per binary; the orchestrator
already starts, watches and stops whatever this returns.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from scaisend.dev.children import ChildSpec
from scaisend.settings import Settings

BINARIES = ("prometheus", "alertmanager")


def monitoring_children(settings: Settings, data_dir: Path, say: Callable[[str], None]) -> list[ChildSpec]:
    """The monitoring children to start for ``settings`` (currently none); ``say`` prints a line on stderr."""
    del settings, data_dir  # used once the generated configs are wired in
    found = {name: shutil.which(name) for name in BINARIES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        say(f"--with-monitoring: {' and '.join(missing)} not found on PATH; "
            "Prometheus/Alertmanager integration is not available yet")
    else:
        say("--with-monitoring: found " + ", ".join(f"{name} at {path}" for name, path in found.items())
            + "; starting them from the generated configs is not available yet")
    return []
