"""The one Settings object (D22, D23): bad values fail naming the variable; only settings.py reads the
environment; .env.example lists every setting and is current."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from scaisend.settings import Settings, SettingsError, load_settings, parse_duration, render_env_example

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("scaisend", "exporter", "alerts", "dashboards", "deploy")


class TestLoadSettings:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("DATABASE_URL", "postgres://x"),
            ("REDIS_URL", "http://nope"),
            ("SMTP_RETRY_SCHEDULE", "5m,banana"),
            ("SMTP_MAX_AGE", "-3h"),
            ("API_PORT", "99999"),
            ("SMTP_TLS_POLICY", "sometimes"),
            ("SECRET_KEY", "short"),
        ],
    )
    def test_bad_value_names_the_variable(self, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            load_settings(_env_file=None)

    def test_defaults_load(self) -> None:
        settings = load_settings(_env_file=None)
        assert settings.retry_schedule[0] == timedelta(minutes=5)
        assert settings.smtp_max_age == timedelta(hours=72)
        assert settings.fbl_address == f"fbl@{settings.BOUNCE_DOMAIN}"

    def test_nameservers_with_ports(self) -> None:
        settings = Settings(_env_file=None, DNS_NAMESERVERS="127.0.0.1:5353, 10.0.0.2")  # type: ignore[call-arg]
        assert settings.nameservers == [("127.0.0.1", 5353), ("10.0.0.2", 53)]


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("45", 45)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_env_example_is_current_and_complete() -> None:
    text = (ROOT / ".env.example").read_text()
    assert text == render_env_example(), "run `make bundle` to regenerate .env.example"
    for name in Settings.model_fields:
        assert re.search(rf"^(# )?{name}=", text, re.M), name


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py" and path.parent.name == "scaisend":
                continue
            if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
