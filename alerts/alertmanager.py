"""Alertmanager configuration (docs/deploy.md; docs/observability.md, docs/runbooks.md).

Critical alerts go to the paging receiver, warnings to the ticket receiver; notifications are grouped by
``alertname`` and ``tenant``. Inhibit rules come from the alerts' own :class:`alerts.rules.Inhibitor` lists, so a
service's Down/Absent alert silences the alerts derived from that service. Receivers are webhook configs whose URLs
are placeholders an operator replaces (or passes to :func:`alertmanager_config`).
"""

from __future__ import annotations

from typing import Any

from alerts.config import CONFIG, Config
from alerts.rules import Inhibitor, alerts


def _alternation(names: list[str] | tuple[str, ...]) -> str:
    return "|".join(sorted(names))


def inhibit_rules(config: Config = CONFIG) -> list[dict[str, Any]]:
    """One inhibit rule per distinct :class:`Inhibitor`, targeting every alert that lists it (first-seen order)."""
    targets: dict[Inhibitor, list[str]] = {}
    for alert in alerts(config):
        for inhibitor in alert.inhibited_by:
            targets.setdefault(inhibitor, []).append(alert.name)
    rules = []
    for inhibitor, names in targets.items():
        rule: dict[str, Any] = {
            "source_matchers": [f'alertname=~"{_alternation(inhibitor.sources)}"'],
            "target_matchers": [f'alertname=~"{_alternation(names)}"'],
        }
        if inhibitor.equal:
            rule["equal"] = list(inhibitor.equal)
        rules.append(rule)
    return rules


def _receiver(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}


def alertmanager_config(
    config: Config = CONFIG,
    *,
    pager_url: str | None = None,
    ticket_url: str | None = None,
    group_wait: str | None = None,
    group_interval: str | None = None,
) -> dict[str, Any]:
    """``alertmanager.yml`` as a dict. Keyword arguments override the placeholder URLs and the timings."""
    return {
        "route": {
            "receiver": config.ticket_receiver,
            "group_by": list(config.group_by),
            "group_wait": group_wait or config.group_wait,
            "group_interval": group_interval or config.group_interval,
            "repeat_interval": config.ticket_repeat_interval,
            "routes": [
                {
                    "receiver": config.pager_receiver,
                    "matchers": ['severity="critical"'],
                    "repeat_interval": config.pager_repeat_interval,
                },
                {"receiver": config.ticket_receiver, "matchers": ['severity="warning"']},
            ],
        },
        "receivers": [
            _receiver(config.pager_receiver, pager_url or config.pager_url),
            _receiver(config.ticket_receiver, ticket_url or config.ticket_url),
        ],
        "inhibit_rules": inhibit_rules(config),
    }
