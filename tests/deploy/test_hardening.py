"""Issue 9 finding 8, the bundle's part: Redis asks for a password everywhere the bundle reaches it, and Kubernetes
denies all traffic in the namespace except what each component needs (the generated files, as an operator applies
them)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from deploy import kubernetes
from scaisend.processes import API, EXPORTER, SMTP, WORKER
from tests.deploy.tools import DEPLOY, build_kustomization, by_kind, load, load_all

BASE = DEPLOY / "kubernetes" / "base"


class TestRedisAuthentication:
    def test_compose_redis_requires_the_password_the_services_use(self) -> None:
        services = load(DEPLOY / "compose" / "compose.yaml")["services"]
        command = services["redis"]["command"]
        password = command[command.index("--requirepass") + 1]
        assert password.startswith("${REDIS_PASSWORD:?")
        for name in (API.name, WORKER.name, SMTP.name, EXPORTER.name):
            assert services[name]["environment"]["REDIS_URL"] == f"redis://:{password}@redis:6379/0"
        assert services["redis"]["environment"]["REDISCLI_AUTH"] == password  # the healthcheck authenticates

    def test_systemd_and_kubernetes_placeholders_carry_a_password(self) -> None:
        systemd = (DEPLOY / "systemd" / "scaisend.env").read_text(encoding="utf-8")
        assert "REDIS_URL=redis://:CHANGE-ME@127.0.0.1:6379/0" in systemd.splitlines()
        [secret] = load_all(BASE / "secret.template.yaml")
        assert secret["stringData"]["REDIS_URL"] == "redis://:CHANGE-ME@redis.example.internal:6379/0"


@pytest.fixture(scope="module")
def policies() -> dict[str, dict[str, Any]]:
    return by_kind(build_kustomization(BASE), "NetworkPolicy")


def _egress_ports(policy: dict[str, Any]) -> set[int]:
    return {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}


class TestNetworkPolicies:
    def test_default_deny_covers_every_pod_both_ways(self, policies: dict[str, dict[str, Any]]) -> None:
        spec = policies["default-deny"]["spec"]
        assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}

    def test_every_workload_has_its_policy(self, policies: dict[str, dict[str, Any]]) -> None:
        documents = build_kustomization(BASE)
        selected = [p["spec"]["podSelector"].get("matchLabels") for p in policies.values()]
        for kind in ("Deployment", "Job"):
            for workload in by_kind(documents, kind).values():
                labels = workload["spec"]["template"]["metadata"]["labels"]
                assert any(s and s.items() <= labels.items() for s in selected), workload["metadata"]["name"]

    def test_only_the_api_and_inbound_smtp_take_traffic_from_outside(self, policies: dict[str, dict[str, Any]]) -> None:
        open_to_all = {
            name: [p["port"] for rule in policy["spec"]["ingress"] if "from" not in rule for p in rule["ports"]]
            for name, policy in policies.items()
        }
        assert {name: ports for name, ports in open_to_all.items() if ports} == {
            "scaisend-api": [API.port],
            "scaisend-smtp": [2525],
        }

    def test_what_each_component_may_reach(self, policies: dict[str, dict[str, Any]]) -> None:
        assert _egress_ports(policies["scaisend-api"]) == {53, 3306, 6379, 443}
        assert _egress_ports(policies["scaisend-worker"]) == {53, 3306, 6379, 443, 80}
        assert _egress_ports(policies["scaisend-smtp"]) == {53, 3306, 6379, 25}
        assert _egress_ports(policies["scaisend-exporter"]) == {53, 3306, 6379}
        assert _egress_ports(policies["scaisend-migrate"]) == {53, 3306}

    @pytest.mark.parametrize("address", ["169.254.169.254", "10.1.2.3", "127.0.0.1", "fd00::1", "64:ff9b::a00:1"])
    def test_mail_and_plain_http_never_reach_private_addresses(self, address: str) -> None:
        ip = ipaddress.ip_address(address)
        excluded = kubernetes.PRIVATE_V4 if ip.version == 4 else kubernetes.PRIVATE_V6
        assert any(ip in ipaddress.ip_network(block) for block in excluded)
