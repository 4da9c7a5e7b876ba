"""docs/deploy.md stays true: the files it names exist, its site overlay builds on the production overlay, and what it
says of the ``email_events`` partitions (D18) matches the command, the settings and MariaDB."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from deploy import environment, kubernetes
from scaisend.cli.main import build_parser
from scaisend.db import migrate
from scaisend.settings import Settings
from tests.deploy.tools import (
    DEPLOY,
    K8S_VERSION,
    KUBECTL,
    ROOT,
    by_kind,
    execute,
    needs_kubectl,
    run,
    run_python_module,
    write_all,
)

DOC = (ROOT / "docs" / "deploy.md").read_text()
LISTING_SQL = re.compile(r"`(SELECT PARTITION_NAME[^`]*)`")


def _code_block(marker: str) -> str:
    match = re.search(r"```\w*\n(" + re.escape(marker) + r"\n.*?)```", DOC, re.DOTALL)
    assert match, f"no code block starting with {marker!r}"
    return match.group(1)


def _subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


class TestReferences:
    def test_every_named_repository_path_exists(self) -> None:
        named = set(re.findall(r"`((?:deploy|alerts|dashboards|scaisend|docs)/[\w./-]+)`", DOC))
        assert named, "the page names no files?"
        operator_files = {"deploy/compose/.env"}  # created by the operator, never committed
        missing = sorted(p for p in named - operator_files if not (ROOT / p.rstrip("/")).exists())
        assert not missing

    def test_every_unit_in_the_table_is_generated(self) -> None:
        for name in re.findall(r"`(scaisend-\w+)` / ", DOC):
            assert (DEPLOY / "systemd" / f"{name}.service").is_file(), name


@needs_kubectl
class TestSiteOverlay:
    def test_documented_site_overlay_builds_and_validates(self, tmp_path: Path) -> None:
        (tmp_path / "scaisend").symlink_to(ROOT)
        site = tmp_path / "site"
        site.mkdir()
        (site / "kustomization.yaml").write_text(_code_block("# site overlay: kustomization.yaml"))
        (site / "secrets.env").write_text(
            "".join(f"{k}={v}\n" for k, v in environment.secret_placeholders(mysql_host="db", redis_host="r").items())
        )
        (site / "alertmanager.yaml").write_text((ROOT / "alerts/out/alertmanager.yml").read_text())
        result = run(str(KUBECTL), "kustomize", site)
        assert result.returncode == 0, result.stderr
        documents = [d for d in yaml.safe_load_all(result.stdout) if d]
        images = {
            c["image"]
            for d in by_kind(documents, "Deployment").values()
            for c in d["spec"]["template"]["spec"]["containers"]
        }
        assert images == {"registry.example.com/scaisend:0.1.0"}
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        assert config["PUBLIC_BASE_URL"] == "https://scaisend.example.org"
        assert config["API_PORT"] == "8000", "merge keeps the generated settings"
        secrets = by_kind(documents, "Secret")
        assert set(secrets) == {kubernetes.SECRET, kubernetes.ALERTMANAGER_SECRET}
        checked = run_python_module(
            "kubernetes_validate", "-k", K8S_VERSION, "--strict", write_all(tmp_path / "site.yaml", documents)
        )
        assert checked.returncode == 0, checked.stdout


class TestPartitions:
    def test_documented_command_options_and_setting_exist(self) -> None:
        section = DOC[DOC.index("### `email_events` partitions (MySQL)") : DOC.index("## Upgrades")]
        options = {a.option_strings[0] for a in _subcommand("partitions")._actions if a.option_strings}
        documented = set(re.findall(r"`(--[a-z-]+)", section))
        assert documented == {"--dry-run", "--ahead", "--retention-months"}
        assert documented <= options
        assert set(re.findall(r"`([A-Z_]{6,})=", section)) == {"EVENT_RETENTION_MONTHS"} <= set(Settings.model_fields)

    async def test_documented_listing_query_runs_on_mariadb(self, empty_database: Settings) -> None:
        migrate.upgrade(empty_database)
        query = LISTING_SQL.search(DOC)
        assert query, "the information_schema listing is gone from docs/deploy.md"
        names = [row[0] for row in execute(empty_database, query[1])]
        assert names[-1] == "pmax"
        assert len(names) == 5, "the first migration makes this month, the next three and pmax"


@pytest.mark.parametrize(
    "heading", ["DNS records", "Network: port 25 both ways", "TLS termination", "Scaling", "Upgrades", "Paging"]
)
def test_page_has_the_sections_operators_look_for(heading: str) -> None:
    assert f"\n## {heading}\n" in DOC
