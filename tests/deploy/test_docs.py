"""docs/deploy.md stays true: the files it names exist, its site overlay builds on the production overlay, and its
``email_events`` partition statement runs on MariaDB (D18)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from deploy import environment, kubernetes
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
PARTITION_SQL = re.compile(
    r"ALTER TABLE email_events REORGANIZE PARTITION pmax INTO \(\s*"
    r"PARTITION p(?P<name>\d{6}) VALUES LESS THAN \(TO_DAYS\('(?P<bound>\d{4}-\d{2}-\d{2})'\)\),\s*"
    r"PARTITION pmax VALUES LESS THAN MAXVALUE\s*\);"
)


def _code_block(marker: str) -> str:
    match = re.search(r"```\w*\n(" + re.escape(marker) + r"\n.*?)```", DOC, re.DOTALL)
    assert match, f"no code block starting with {marker!r}"
    return match.group(1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


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
            "".join(f"{k}={v}\n" for k, v in environment.secret_placeholders(mysql_host="db", redis_host="r").items()))
        (site / "alertmanager.yaml").write_text((ROOT / "alerts/out/alertmanager.yml").read_text())
        result = run(str(KUBECTL), "kustomize", site)
        assert result.returncode == 0, result.stderr
        documents = [d for d in yaml.safe_load_all(result.stdout) if d]
        images = {c["image"] for d in by_kind(documents, "Deployment").values()
                  for c in d["spec"]["template"]["spec"]["containers"]}
        assert images == {"registry.example.com/scaisend:0.1.0"}
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        assert config["PUBLIC_BASE_URL"] == "https://scaisend.example.org"
        assert config["API_PORT"] == "8000", "merge keeps the generated settings"
        secrets = by_kind(documents, "Secret")
        assert set(secrets) == {kubernetes.SECRET, kubernetes.ALERTMANAGER_SECRET}
        checked = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict",
                                    write_all(tmp_path / "site.yaml", documents))
        assert checked.returncode == 0, checked.stdout


class TestPartitions:
    def test_documented_example_names_the_month_before_its_bound(self) -> None:
        match = PARTITION_SQL.search(DOC)
        assert match, "the REORGANIZE PARTITION statement is gone from docs/deploy.md"
        name, bound = match["name"], date.fromisoformat(match["bound"])
        assert _next_month(date(int(name[:4]), int(name[4:]), 1)) == bound

    async def test_documented_statement_adds_the_next_month_on_mariadb(self, empty_database: Settings) -> None:
        migrate.upgrade(empty_database)
        query = ("SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() "
                 "AND TABLE_NAME = 'email_events' ORDER BY PARTITION_ORDINAL_POSITION")
        before = [row[0] for row in execute(empty_database, query)]
        assert before[-1] == "pmax"
        last = before[-2]
        month = _next_month(date(int(last[1:5]), int(last[5:]), 1))
        match = PARTITION_SQL.search(DOC)
        assert match
        statement = match[0].replace(f"p{match['name']}", f"p{month:%Y%m}").replace(
            match["bound"], _next_month(month).isoformat())
        after = [row[0] for row in execute(empty_database, statement, query)]
        assert after == [*before[:-1], f"p{month:%Y%m}", "pmax"]
        execute(empty_database, f"ALTER TABLE email_events DROP PARTITION {before[0]}")


@pytest.mark.parametrize("heading", ["DNS records", "Network: port 25 both ways", "TLS termination", "Scaling",
                                     "Upgrades", "Paging"])
def test_page_has_the_sections_operators_look_for(heading: str) -> None:
    assert f"\n## {heading}\n" in DOC
