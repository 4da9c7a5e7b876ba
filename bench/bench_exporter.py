"""Exporter scrape cost with a long history: 10,000 tenants x 90 days of daily_stats on MariaDB.

    .venv/bin/python bench/bench_exporter.py [--tenants 10000] [--days 90] [--scrapes 20]

Creates its own database (dropped at the end), fills it through the real migrations, then times full scrapes of
the exporter app (every collector) and reports p50/p99. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pymysql

from exporter.main import create_exporter_app
from scaisend.db import migrate
from scaisend.models import STAT_METRICS
from scaisend.settings import Settings

SERVER = "mysql+aiomysql://root@127.0.0.1:3306"


def fill(db: str, tenants: int, days: int) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=False)
    now = datetime.now(UTC).replace(tzinfo=None)
    today = now.date()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tenants (id, name, slug, settings, suspended, created_at, updated_at) "
            "VALUES (%s, %s, %s, '{}', 0, %s, %s)",
            [(f"tnt_{i:08d}", f"T{i}", f"t{i}", now, now) for i in range(tenants)],
        )
        cols = ", ".join(STAT_METRICS)
        marks = ", ".join(["%s"] * len(STAT_METRICS))
        sql = (
            f"INSERT INTO daily_stats (tenant_id, date, category, {cols}, updated_at) VALUES (%s, %s, '', {marks}, %s)"
        )
        for day in range(days):
            date = today - timedelta(days=day)
            cur.executemany(sql, [(f"tnt_{i:08d}", date, *([i % 97] * len(STAT_METRICS)), now) for i in range(tenants)])
            conn.commit()
    conn.close()


async def time_scrapes(settings: Settings, scrapes: int) -> list[float]:
    app = create_exporter_app(settings)
    timings = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as client,
    ):
        await client.get("/metrics")  # warm the pool
        for _ in range(scrapes):
            start = time.perf_counter()
            response = await client.get("/metrics")
            timings.append(time.perf_counter() - start)
            assert "scaisend_exporter_up 1.0" in response.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    db = f"scaisend_bench_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
    settings = Settings(_env_file=None, DATABASE_URL=f"{SERVER}/{db}", DATABASE_STATEMENT_TIMEOUT_MS=10_000)  # type: ignore[call-arg]
    try:
        migrate.upgrade(settings)
        start = time.perf_counter()
        fill(db, args.tenants, args.days)
        print(f"filled {args.tenants * args.days} daily_stats rows in {time.perf_counter() - start:.1f}s")
        timings = sorted(asyncio.run(time_scrapes(settings, args.scrapes)))
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(
            f"scrape p50 {statistics.median(timings) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
            f"over {len(timings)} scrapes ({args.tenants} tenants x 16 gauges + timestamps)"
        )
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {db}")


if __name__ == "__main__":
    main()
