"""``scaisend dev --with-monitoring`` (D16, issue "Observability" item 6): Prometheus and Alertmanager from Debian's
packages (or anywhere on PATH) as further children of the embedded setup, run from the same generated rules and
routing as every deploy target, scraping the dev processes on their dev ports. A newcomer opens the Prometheus URL
and sees the four targets up and the rules loaded.

Files go under ``<data dir>/monitoring/``. The Alertmanager receivers keep the generated placeholder URLs: alerts
show in its UI, notifications go nowhere until an operator sets real receivers.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import yaml

from alerts.alertmanager import alertmanager_config
from alerts.generate import RULES_FILE
from alerts.generate import render as render_alerts
from deploy.prometheus import prometheus_config, static_job
from scaisend.dev.children import ChildSpec
from scaisend.processes import PROCESSES
from scaisend.settings import Settings

PROMETHEUS_NAMES = ("prometheus",)
ALERTMANAGER_NAMES = ("prometheus-alertmanager", "alertmanager")  # Debian's name first
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
DEV_SCRAPE_INTERVAL = "5s"


def _find(names: tuple[str, ...]) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


def _port(host: str, preferred: int) -> int:
    """``preferred`` when it is free on ``host``, else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind((host, preferred))
            return preferred
        except OSError:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])


def write_configs(settings: Settings, folder: Path, alertmanager_port: int) -> Path:
    """``prometheus.yml`` (dev ports, generated rules) and ``alertmanager.yml``; returns the Prometheus config."""
    folder.mkdir(parents=True, exist_ok=True)
    host = settings.METRICS_HOST
    jobs = []
    for process in PROCESSES:
        port = getattr(settings, process.port_setting)
        target_host = settings.API_HOST if process.name == "api" else host
        jobs.append({**static_job(process, target_host), "static_configs": [{"targets": [f"{target_host}:{port}"]}]})
    config = prometheus_config(jobs, alertmanager=f"127.0.0.1:{alertmanager_port}")
    config["global"] = {"scrape_interval": DEV_SCRAPE_INTERVAL, "evaluation_interval": DEV_SCRAPE_INTERVAL}
    (folder / RULES_FILE).write_text(render_alerts()[RULES_FILE], encoding="utf-8")
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(), sort_keys=False), encoding="utf-8")
    return path


def monitoring_children(settings: Settings, data_dir: Path, say: Callable[[str], None]) -> list[ChildSpec]:
    """Prometheus and Alertmanager children for ``settings``; none (with a note) when the binaries are missing."""
    prometheus, alertmanager = _find(PROMETHEUS_NAMES), _find(ALERTMANAGER_NAMES)
    if prometheus is None or alertmanager is None:
        missing = [n for n, p in (("prometheus", prometheus), ("alertmanager", alertmanager)) if p is None]
        say(
            f"--with-monitoring: {' and '.join(missing)} not found on PATH "
            "(Debian: apt-get install prometheus prometheus-alertmanager); starting without monitoring"
        )
        return []
    folder = data_dir / "monitoring"
    prom_port, am_port = _port("127.0.0.1", PROMETHEUS_PORT), _port("127.0.0.1", ALERTMANAGER_PORT)
    config = write_configs(settings, folder, am_port)
    say(f"Prometheus: http://127.0.0.1:{prom_port}  Alertmanager: http://127.0.0.1:{am_port}  (configs in {folder})")
    say(
        f"dashboards: Grafana is not bundled; in any Grafana 10+ add a Prometheus data source at "
        f"http://127.0.0.1:{prom_port} and import the six dashboards/out/*.json (see README, 'Monitoring')"
    )
    return [
        ChildSpec(
            "prometheus",
            (
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ),
            ready_url=f"http://127.0.0.1:{prom_port}/-/ready",
        ),
        ChildSpec(
            "alertmanager",
            (
                alertmanager,
                f"--config.file={folder / 'alertmanager.yml'}",
                f"--storage.path={folder / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ),
            ready_url=f"http://127.0.0.1:{am_port}/-/ready",
        ),
    ]
