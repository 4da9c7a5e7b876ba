"""``scaisend dev``'s options: the CLI imports :mod:`scaisend.dev` only when the command runs, so its help states the
defaults as text; they must be :class:`~scaisend.dev.embedded.DevOptions`' own."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

from scaisend.cli import dev
from scaisend.cli.main import build_parser
from scaisend.dev.embedded import DevOptions


def _dev_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["dev"]


def test_no_option_gives_the_default_options() -> None:
    assert dev.options_from_args(build_parser().parse_args(["dev"])) == DevOptions()


def test_every_default_in_the_help_is_the_options_default() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(DevOptions)}
    stated = {}
    for action in _dev_parser()._actions:
        match = re.search(r"\(default: ([^)]+)\)", action.help or "")
        if match:
            stated[action.dest] = match.group(1)
    assert len(stated) == 9
    for name, text in stated.items():
        value = defaults[name]
        assert text == (f"./{value}" if isinstance(value, Path) else str(value).removesuffix(".0")), name


def test_given_options_win() -> None:
    args = build_parser().parse_args(["dev", "--port", "18000", "--metrics-base-port", "19000", "--redis-port", "0"])
    options = dev.options_from_args(args)
    assert (options.port, options.worker_metrics_port, options.exporter_port, options.redis_port) == (
        18000,
        19000,
        19002,
        0,
    )
    assert options.mx_port == DevOptions().mx_port


def test_the_installed_dev_extra_is_complete_here() -> None:
    assert dev.missing_dev_extra() == []
