"""``python -m dashboards.generate [--out DIR]``: write ``<uid>.json`` for the six dashboards of the operations guide
(docs/observability.md, docs/runbooks.md; docs/architecture.md, docs/deploy.md, D27, D23).

Output is ``json.dumps(sort_keys=True, indent=2)`` plus a newline, committed under ``dashboards/out/``; a test
regenerates it and fails on any difference.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from dashboards import api_latency, bounces, engagement, queue_depths, send_delivery, spam_reports

OUT_DIR: Final = Path(__file__).resolve().parent / "out"
BUILDERS: Final[tuple[Callable[[], dict[str, Any]], ...]] = (
    send_delivery.dashboard,
    bounces.dashboard,
    spam_reports.dashboard,
    queue_depths.dashboard,
    api_latency.dashboard,
    engagement.dashboard,
)


def all_dashboards() -> dict[str, dict[str, Any]]:
    """uid → dashboard JSON model, in the operations guide's order."""
    built = [build() for build in BUILDERS]
    return {dashboard["uid"]: dashboard for dashboard in built}


def to_json(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, sort_keys=True, indent=2) + "\n"


def render() -> dict[str, str]:
    """File name → content of every generated file."""
    return {f"{uid}.json": to_json(dashboard) for uid, dashboard in all_dashboards().items()}


def write(out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory (default: dashboards/out)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()
