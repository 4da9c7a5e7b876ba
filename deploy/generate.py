"""``python -m deploy.generate [--root DIR] [--check]``: the one command behind ``make bundle`` (docs/architecture.md, docs/deploy.md, D27, D23;
docs/observability.md item 1).

It renders every committed artifact, ``alerts/out``, ``dashboards/out`` and ``.env.example`` through their own
generators, and the Kubernetes, compose and systemd bundles from :mod:`deploy`, then writes them under ``--root``
(default: the repository). Output is deterministic, so ``--check`` (and the freshness test, which regenerates into a
temporary root) can fail on any difference. Files in the generated folders that the generator no longer produces are
reported, never deleted: an operator's ``deploy/compose/.env`` lives there too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from alerts import generate as alerts_generate
from dashboards import generate as dashboards_generate
from deploy import compose, kubernetes, log_shipping, redis, systemd
from deploy.kubernetes_overlays import OVERLAYS, overlay_files
from scaisend.settings import render_env_example

ROOT: Final = Path(__file__).resolve().parent.parent
# Folders whose every (non-hidden) file is generated.
GENERATED_DIRS: Final = ("alerts/out", "dashboards/out", "deploy/kubernetes", "deploy/compose", "deploy/systemd")


def _under(prefix: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}/{name}": text for name, text in files.items()}


def render() -> dict[str, str]:
    """Path relative to the repository root → content, for every generated file."""
    files = {
        **_under("alerts/out", alerts_generate.render()),
        **_under("dashboards/out", dashboards_generate.render()),
        ".env.example": render_env_example(),
        **_under("deploy/kubernetes/base", kubernetes.base_files()),
        **_under("deploy/kubernetes/logging", log_shipping.kubernetes_files()),
        **_under("deploy/compose", compose.files()),
        "deploy/kubernetes/redis/redis.yaml": redis.kubernetes_file(),
        **_under("deploy/systemd", systemd.files()),
    }
    for overlay in OVERLAYS:
        files.update(_under(f"deploy/kubernetes/overlays/{overlay.name}", overlay_files(overlay)))
    return dict(sorted(files.items()))


def write(root: Path = ROOT) -> list[Path]:
    written = []
    for relative, text in render().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _existing(root: Path) -> set[str]:
    found = set()
    for folder in GENERATED_DIRS:
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.add(relative.as_posix())
    return found


def differences(root: Path = ROOT) -> list[str]:
    """Human-readable list of generated files under ``root`` that are missing, stale or no longer generated."""
    rendered = render()
    problems = []
    for relative, text in rendered.items():
        path = root / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {relative}")
    problems += [f"not generated: {relative}" for relative in sorted(_existing(root) - set(rendered))]
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="write under this directory (default: the repo)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything differs")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(args.root)
        for problem in problems:
            print(problem)
        if problems:
            print("run `make bundle` to regenerate", file=sys.stderr)
            raise SystemExit(1)
        return
    for path in write(args.root):
        print(path.relative_to(args.root))
    for problem in differences(args.root):
        print(f"warning: {problem} (remove it if it is obsolete)", file=sys.stderr)


if __name__ == "__main__":
    main()
