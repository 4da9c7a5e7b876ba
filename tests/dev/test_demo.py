"""The pieces ``scaisend dev`` is assembled from (D16): its settings and child environment, and the demo account
that survives re-runs (same key), a revoked key (a new one) and a lost ``demo.json`` (a domain whose DKIM key
decrypts under the new SECRET_KEY)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.clock import utcnow
from scaisend.db.migrate import upgrade
from scaisend.db.session import create_engine, session_maker, unit_of_work
from scaisend.dev.children import settings_env
from scaisend.dev.demo import DEMO_DOMAIN, DemoState, ensure_demo
from scaisend.dev.embedded import DEFAULT_DATABASE_URL, DevOptions, DevPaths, child_specs, dev_settings
from scaisend.domains.service import signing_key
from scaisend.ids import hash_api_key
from scaisend.models import ApiKey, SenderDomain, Tenant
from scaisend.settings import Settings


def _settings(tmp_path: Path, secret_key: str = "dev-secret-key-0123456789") -> Settings:
    options = DevOptions(data_dir=tmp_path / "dev", port=18000, mx_port=12526, worker_metrics_port=19101)
    return dev_settings(options, DevPaths(options.data_dir), "unix:///tmp/x/redis.sock?db=0", secret_key)


class TestSettings:
    def test_dev_settings_point_everything_at_the_embedded_services(self, tmp_path: Path) -> None:
        settings = _settings(tmp_path)
        db_file = (tmp_path / "dev" / "scaisend.db").resolve()
        assert f"sqlite+aiosqlite:///{db_file}" == settings.DATABASE_URL
        assert settings.REDIS_URL == "unix:///tmp/x/redis.sock?db=0"
        assert settings.SMTP_RELAY_HOST == "127.0.0.1:12526"
        assert (settings.API_PORT, settings.WORKER_METRICS_PORT, settings.SMTP_METRICS_PORT) == (18000, 19101, 9102)
        assert (settings.SMTP_INBOUND_PORT, settings.EXPORTER_PORT) == (2525, 9103)
        assert settings.ENVIRONMENT == "development"
        assert settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS is True
        assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:18000"
        assert [s.name for s in child_specs(settings)] == ["api", "worker", "smtp", "exporter"]
        assert [s.essential for s in child_specs(settings)] == [True, True, True, True]
        assert [s.port for s in child_specs(settings)] == [
            (18000, "--port"),
            (19101, "--worker-metrics-port"),
            (9102, "--smtp-metrics-port"),
            (9103, "--exporter-port"),
        ]

    def test_default_data_dir_uses_the_documented_relative_url(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        settings = dev_settings(DevOptions(), DevPaths(Path(".scaisend")), "redis://127.0.0.1:1/0", "x" * 32)
        assert settings.DATABASE_URL == DEFAULT_DATABASE_URL

    def test_child_environment_carries_the_settings_object(self, tmp_path: Path) -> None:
        settings = _settings(tmp_path)
        env = settings_env(settings)
        assert env.values["DATABASE_URL"] == settings.DATABASE_URL
        assert env.values["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] == "true"
        assert env.values["SMTP_RELAY_HOST"] == "127.0.0.1:12526"
        # empty settings are removed: an empty PROMETHEUS_MULTIPROC_DIR switches prometheus-client to multiprocess
        assert "PROMETHEUS_MULTIPROC_DIR" in env.unset
        assert "PROMETHEUS_MULTIPROC_DIR" not in env.values
        assert set(env.values) | set(env.unset) >= set(Settings.model_fields)
        values = {k: v for k, v in env.values.items() if k in Settings.model_fields}
        assert Settings(_env_file=None, **values) == settings  # type: ignore[call-arg, arg-type]


class TestDemoState:
    def test_missing_or_broken_file_gives_a_fresh_state(self, tmp_path: Path) -> None:
        path = tmp_path / "demo.json"
        assert len(DemoState.load(path).secret_key) >= 32
        path.write_text("{not json")
        assert DemoState.load(path).api_key == ""

    def test_round_trip_is_private(self, tmp_path: Path) -> None:
        path = tmp_path / "demo.json"
        state = DemoState(tenant_id="tnt_1", api_key="sg_live_" + "a" * 32)
        state.save(path)
        assert DemoState.load(path) == state
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def _ensure(settings: Settings, state: DemoState) -> DemoState:
    engine = create_engine(settings, pool=False)
    try:
        async with unit_of_work(session_maker(engine)) as session:
            return await ensure_demo(session, settings, state)
    finally:
        await engine.dispose()


async def test_demo_account_is_made_once_and_repaired_when_needed(tmp_path: Path) -> None:
    first_secret = "first-secret-key-0123456789"
    settings = _settings(tmp_path, first_secret)
    upgrade(settings)
    made = await _ensure(settings, DemoState(secret_key=first_secret))
    again = await _ensure(settings, made)
    assert again == made
    assert made.api_key.startswith("sg_live_")
    assert made.sender == f"demo@{DEMO_DOMAIN}"

    engine = create_engine(settings, pool=False)
    maker = session_maker(engine)
    try:
        async with unit_of_work(maker) as session:
            assert len((await session.scalars(select(Tenant))).all()) == 1
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(made.api_key)))
            assert key is not None
            assert set(key.scopes) == SCOPE_NAMES
            assert key.environment == "live"
            domain = await session.scalar(select(SenderDomain).where(SenderDomain.tenant_id == made.tenant_id))
            assert domain is not None
            assert domain.verified
            assert domain.domain == DEMO_DOMAIN
            key.revoked_at = utcnow()

        renewed = await _ensure(settings, made)
        assert renewed.tenant_id == made.tenant_id
        assert renewed.api_key != made.api_key

        # demo.json lost: a new SECRET_KEY; the old DKIM key no longer decrypts, so the domain is made again
        new_secret = "second-secret-key-0123456789"
        settings2 = _settings(tmp_path, new_secret)
        lost = await _ensure(settings2, DemoState(secret_key=new_secret))
        assert lost.tenant_id == made.tenant_id
        assert lost.api_key not in (made.api_key, renewed.api_key)
        async with unit_of_work(maker) as session:
            domain = await session.scalar(select(SenderDomain).where(SenderDomain.tenant_id == made.tenant_id))
            assert domain is not None
            assert domain.verified
            selector, pem = await signing_key(session, settings2, domain)
            assert selector == "scaisend"
            assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    finally:
        await engine.dispose()
