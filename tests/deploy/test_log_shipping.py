"""Log shipping in the bundle (issue 12, D59): the Alloy configurations for compose and Kubernetes read as Alloy
syntax, wire their components to ones that exist, keep exactly ``service``, ``level`` and ``tenant_id`` as labels;
compose runs Loki and Alloy, Grafana gets a Loki datasource, and the Kubernetes add-on validates strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy import log_shipping
from scaisend.logs import SHIPPED_LABELS
from tests.deploy.alloy import Block, Reference, all_references, parse
from tests.deploy.tools import DEPLOY, K8S_VERSION, load, load_all, run_python_module

COMPOSE = DEPLOY / "compose"
LOGGING = DEPLOY / "kubernetes" / "logging"
CONFIGS = {
    "compose": (COMPOSE / "alloy" / log_shipping.CONFIG_FILE).read_text(),
    "kubernetes": load_all(LOGGING / "alloy.yaml")[0]["data"][log_shipping.CONFIG_FILE],
}
EXPORTS = {"receiver", "targets", "output"}


def components(root: Block) -> dict[str, Block]:
    return {f"{b.name}.{b.label}": b for b in root.blocks}


@pytest.mark.parametrize("where", sorted(CONFIGS))
class TestAlloyConfig:
    def test_every_reference_names_a_component_defined_here(self, where: str) -> None:
        root = parse(CONFIGS[where])
        defined = components(root)
        for reference in all_references(root):
            component, _, export = reference.rpartition(".")
            assert component in defined, reference
            assert export in EXPORTS, reference

    def test_lines_flow_from_the_source_through_the_json_stage_to_loki(self, where: str) -> None:
        found = components(parse(CONFIGS[where]))
        source = found[f"loki.source.{'docker' if where == 'compose' else 'kubernetes'}.scaisend"]
        assert source.attributes["forward_to"] == [Reference("loki.process.scaisend.receiver")]
        assert source.attributes["targets"] == Reference("discovery.relabel.scaisend.output")
        process = found["loki.process.scaisend"]
        assert process.attributes["forward_to"] == [Reference("loki.write.default.receiver")]
        [json_stage] = process.children("stage.json")
        assert set(json_stage.attributes["expressions"]) == {*SHIPPED_LABELS, "timestamp"}
        [labels] = process.children("stage.labels")
        assert tuple(labels.attributes["values"]) == SHIPPED_LABELS == ("service", "level", "tenant_id")
        [stamp] = process.children("stage.timestamp")
        assert stamp.attributes == {"source": "timestamp", "format": "RFC3339Nano"}

    def test_only_scaisend_workloads_are_read(self, where: str) -> None:
        relabel = components(parse(CONFIGS[where]))["discovery.relabel.scaisend"]
        keep = relabel.children("rule")[0].attributes
        assert keep["action"] == "keep"
        assert keep["regex"] == ("(api|worker|smtp|exporter)" if where == "compose" else "scaisend")

    def test_the_reader_refuses_broken_syntax(self, where: str) -> None:
        with pytest.raises(ValueError, match="expected"):
            parse(CONFIGS[where].replace("forward_to =", "forward_to", 1))
        with pytest.raises(ValueError, match="expected"):
            parse(CONFIGS[where] + "}\n")
        with pytest.raises(ValueError, match="unexpected"):
            parse(CONFIGS[where].replace('"scaisend" {', '"scaisend" ; {', 1))


def test_compose_pushes_to_its_loki_and_kubernetes_to_the_configured_url() -> None:
    compose_write = components(parse(CONFIGS["compose"]))["loki.write.default"].children("endpoint")[0]
    assert compose_write.attributes["url"] == f"http://loki:{log_shipping.LOKI_PORT}/loki/api/v1/push"
    k8s_write = components(parse(CONFIGS["kubernetes"]))["loki.write.default"].children("endpoint")[0]
    assert k8s_write.attributes["url"] == ("call", "sys.env", [log_shipping.LOKI_URL_VARIABLE])
    deployment = load_all(LOGGING / "alloy.yaml")[-1]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert {e["name"] for e in container["env"]} == {log_shipping.LOKI_URL_VARIABLE}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(load(COMPOSE / "compose.yaml")["services"])


class TestCompose:
    def test_loki_and_alloy_run_beside_the_services(self, services: dict[str, Any]) -> None:
        assert services["loki"]["image"] == log_shipping.LOKI_IMAGE
        alloy = services["alloy"]
        assert alloy["image"] == log_shipping.ALLOY_IMAGE
        assert "/var/run/docker.sock:/var/run/docker.sock:ro" in alloy["volumes"]
        assert "./alloy:/etc/alloy:ro" in alloy["volumes"]
        assert alloy["command"][-1] == f"/etc/alloy/{log_shipping.CONFIG_FILE}"
        assert alloy["depends_on"] == {"loki": {"condition": "service_healthy"}}
        assert services["grafana"]["depends_on"]["loki"] == {"condition": "service_healthy"}

    def test_grafana_gets_the_loki_datasource(self) -> None:
        [datasource] = load(COMPOSE / "grafana/provisioning/datasources/loki.yaml")["datasources"]
        assert (datasource["type"], datasource["url"]) == ("loki", f"http://loki:{log_shipping.LOKI_PORT}")
        [prometheus] = load(COMPOSE / "grafana/provisioning/datasources/prometheus.yaml")["datasources"]
        assert prometheus["isDefault"] is True
        assert datasource["isDefault"] is False


class TestKubernetesAddOn:
    def test_manifests_validate_strictly(self) -> None:
        files = sorted(p for p in LOGGING.glob("*.yaml") if p.name != "kustomization.yaml")
        result = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict", *files)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ERROR" not in result.stdout

    def test_kustomization_lists_every_file(self) -> None:
        listed = load(LOGGING / "kustomization.yaml")["resources"]
        assert set(listed) == {p.name for p in LOGGING.glob("*.yaml")} - {"kustomization.yaml"}

    def test_alloy_may_only_read_pods_and_their_logs_in_the_namespace(self) -> None:
        objects = {d["kind"]: d for d in load_all(LOGGING / "alloy.yaml")}
        assert objects["Role"]["rules"] == [
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
        ]
        assert objects["RoleBinding"]["subjects"][0]["name"] == objects["ServiceAccount"]["metadata"]["name"]
        pod = objects["Deployment"]["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == objects["ServiceAccount"]["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True

    def test_grafana_sidecar_datasource(self) -> None:
        [config_map] = load_all(LOGGING / "grafana-datasource.yaml")
        assert config_map["metadata"]["labels"]["grafana_datasource"] == "1"
        import yaml

        [datasource] = yaml.safe_load(next(iter(config_map["data"].values())))["datasources"]
        assert datasource["type"] == "loki"


def test_shipped_lines_have_what_the_pipeline_reads(tmp_path: Path) -> None:
    """The fields Alloy turns into labels and the timestamp it parses are on a real JSON line of ours."""
    import logging
    from datetime import datetime

    from scaisend.logs import correlated
    from tests.harness.json_logs import captured_json_logs, parse_lines

    with captured_json_logs("worker") as stream, correlated({"tenant_id": "tnt_1", "request_id": "r"}, fresh=True):
        logging.getLogger("scaisend.test").warning("shipped")
    [line] = parse_lines(stream.getvalue())
    assert {k: line[k] for k in SHIPPED_LABELS} == {"service": "worker", "level": "WARNING", "tenant_id": "tnt_1"}
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None  # RFC 3339 with an offset
