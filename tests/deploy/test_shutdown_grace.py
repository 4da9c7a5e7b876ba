"""Every process gets the same stop timeout in every bundle, equal to SHUTDOWN_GRACE_SECONDS (issue 14 item 5, D62):
the process's own drain ends 5 s before it, so the supervisor's SIGKILL never cuts a hand-back short."""

from __future__ import annotations

import configparser

from scaisend.processes import PROCESSES
from scaisend.settings import HANDBACK_SECONDS, Settings
from tests.deploy.tools import DEPLOY, load, load_all

GRACE = Settings.model_fields["SHUTDOWN_GRACE_SECONDS"].default


def test_the_default_leaves_time_to_hand_jobs_back() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.shutdown_drain_seconds == GRACE - HANDBACK_SECONDS > 0


def test_kubernetes_termination_grace_period() -> None:
    base = DEPLOY / "kubernetes" / "base"
    deployments = {
        doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc["spec"]["template"]["spec"]
        for name in load(base / "kustomization.yaml")["resources"]
        for doc in load_all(base / name)
        if doc["kind"] == "Deployment"
    }
    assert {name: spec["terminationGracePeriodSeconds"] for name, spec in deployments.items()} == {
        p.name: GRACE for p in PROCESSES
    }


def test_systemd_timeout_stop_sec() -> None:
    found = {}
    for path in (DEPLOY / "systemd").glob("scaisend-*.service"):
        unit = configparser.RawConfigParser(strict=False, delimiters=("=",))
        unit.read_string(path.read_text())
        if unit.get("Service", "Type") == "exec":
            found[path.name] = unit.get("Service", "TimeoutStopSec")
    assert len(found) == len(PROCESSES)
    assert set(found.values()) == {f"{GRACE}s"}


def test_compose_stop_grace_period() -> None:
    services = load(DEPLOY / "compose" / "compose.yaml")["services"]
    assert {p.name: services[p.name]["stop_grace_period"] for p in PROCESSES} == {
        p.name: f"{GRACE}s" for p in PROCESSES
    }
