"""The processes of a ScaiSend installation (D17): what each is called, the ``scaisend`` subcommand that runs it, the
port its ``/metrics`` is served on (and the setting that moves it) and its Prometheus scrape job.

The metric catalogue (:mod:`scaisend.metrics`) says which process exposes each metric; the deploy bundle, the alert
rules, the dashboards and ``scaisend dev --with-monitoring`` build their scrape configs and selectors from
:data:`PROCESSES`. This module imports nothing of ScaiSend, so any layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Process:
    """A process Prometheus scrapes: short name, scrape job, default metrics port and the setting holding it."""

    name: str
    job: str
    port: int
    title: str
    port_setting: str
    command: str
    metrics_path: str = "/metrics"

    @property
    def selector(self) -> str:
        """PromQL label matcher selecting this process's targets."""
        return f'job="{self.job}"'


API: Final = Process("api", "scaisend-api", 8000, "API", "API_PORT", "serve")
WORKER: Final = Process("worker", "scaisend-worker", 9101, "Worker", "WORKER_METRICS_PORT", "worker")
SMTP: Final = Process("smtp", "scaisend-smtp", 9102, "SMTP", "SMTP_METRICS_PORT", "smtp")
EXPORTER: Final = Process("exporter", "scaisend-exporter", 9103, "Exporter", "EXPORTER_PORT", "exporter")
PROCESSES: Final[tuple[Process, ...]] = (API, WORKER, SMTP, EXPORTER)
