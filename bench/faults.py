"""The fault suite (issue 14): a steady send load with one webhook endpoint subscribed, the faults of an operator's
bad day injected one after the other, then every accepted message and event accounted for.

    .venv/bin/python bench/faults.py [--rate 5] [--fault-seconds 30] [--only kill_smtp,redis_flush,...]
                                     [--seed 1] [--drain-timeout 600] [--keep-logs DIR]

Starts ``scaisend serve``, ``scaisend worker`` and ``scaisend smtp`` as processes (bench/bench_send.py's
``Stack``, capture MX and account helpers) on a MariaDB database of their own (``scaisend_faults_<hex>``, dropped
at the end) reached through a loopback TCP proxy (tests/harness/tcp_proxy.py; the shared server is never
restarted), on a ``redis-server`` of their own (a free port, ``appendonly yes``, ``appendfsync everysec``, as the
bundle's), with the retry schedule shortened to seconds (``SMTP_RETRY_SCHEDULE=2s,5s,10s,20s``) and
``SMTP_TIMEOUT=10s``. A webhook receiver (tests/harness/webhook_receiver.py) is subscribed to every event.

Faults, in this order (``--only`` picks some), each while ``--rate`` sends per second keep coming:

| fault          | what happens                                                                  | restored when      |
|----------------|-------------------------------------------------------------------------------|--------------------|
| kill_api       | ``kill -9`` of the API at a random moment, started again 2 s later            | ``/ready`` answers |
| kill_worker    | the same for the worker                                                       | it is started      |
| kill_smtp      | the same for the SMTP service                                                 | it is started      |
| redis_restart  | ``kill -9`` of Redis, started again 2 s later on its append-only file         | it answers PING    |
| redis_flush    | ``FLUSHALL``                                                                  | at once            |
| db_cut         | the database proxy refuses and cuts every connection for ``--fault-seconds``  | the proxy is back  |
| mx_421         | the MX answers ``421`` to every RCPT for ``--fault-seconds``                  | it answers ``250`` |
| mx_hang        | the MX never answers RCPT for ``--fault-seconds``                             | idem               |
| mx_drop        | the MX drops the connection after DATA, without a reply                       | idem               |
| mx_slow        | the MX takes 10× its normal time (0.5 s instead of 0.05 s per message)        | idem               |

"Recovered" for a fault is the moment every message accepted before it was restored had reached the MX; the table
prints it as seconds after the restore. At the end the load stops, the pipeline drains, and the accounting prints:
accepted (202) messages delivered once, twice or more (duplicates per 10,000) and lost (never at the MX: must be 0);
every event of ``email_events`` received by the webhook at least once; ``daily_stats`` equal to the events. Figures
go to docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's scaisend and test harness first

import httpx
import pymysql
import redis
from aiosmtpd.smtp import SMTP, Envelope, Session
from bench_send import (
    ROOT,
    SERVICES,
    CountingHandler,
    CountingMX,
    Database,
    Load,
    Schedule,
    Stack,
    bench_settings,
    make_account,
    open_loop,
    service_env,
    wait_http,
)
from sqlalchemy import func, select

from scaisend.db import migrate
from scaisend.db.session import create_engine, session_maker, unit_of_work
from scaisend.events.types import EventType
from scaisend.models import DailyStat, EmailEvent, Tenant
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.stat_metrics import ALL_CATEGORIES, STAT_METRICS
from scaisend.stats.counters import metrics_for
from scaisend.webhooks.service import create_endpoint
from tests.harness.own_redis import AofRedis
from tests.harness.tcp_proxy import TcpProxy
from tests.harness.webhook_receiver import WebhookReceiver

FAULTS = (
    "kill_api",
    "kill_worker",
    "kill_smtp",
    "redis_restart",
    "redis_flush",
    "db_cut",
    "mx_421",
    "mx_hang",
    "mx_drop",
    "mx_slow",
)
NORMAL_MX_SECONDS = 0.05


class FaultyHandler(CountingHandler):
    """The capture MX with a switch: ``ok``, ``421``, ``hang``, ``drop`` or ``slow``. Only a message answered ``250``
    counts as received."""

    mode = "ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mode == "421":
            return "421 4.3.2 Service not available, closing channel"
        if self.mode == "hang":
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "drop":
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "451 4.3.0 dropped"  # never reaches the client
        await asyncio.sleep(NORMAL_MX_SECONDS * (10 if self.mode == "slow" else 1))
        return await super().handle_DATA(server, session, envelope)


@dataclass
class FaultStack(Stack):
    """bench_send's three processes, each of which can be killed and started again."""

    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        """The three processes; each must answer within 300 s (a busy 2-core machine starts them slowly)."""
        for name in SERVICES:
            self.start_one(name)
        for name in SERVICES:
            self.wait_up(name)

    def wait_up(self, name: str) -> None:
        s = self.settings
        port = {"api": s.API_PORT, "worker": s.WORKER_METRICS_PORT, "smtp": s.SMTP_METRICS_PORT}[name]
        wait_http(f"http://127.0.0.1:{port}{'/ready' if name == 'api' else '/metrics'}", 300)

    def start_one(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "scaisend", SERVICES[name]],
                env=self.env or service_env(self.settings),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)


@dataclass
class Row:
    fault: str
    recovered_after: float | None  # seconds from the restore until everything accepted before it was at the MX
    failed_sends: int


@dataclass
class Suite:
    args: argparse.Namespace
    settings: Settings
    stack: FaultStack
    handler: FaultyHandler
    redis_server: AofRedis
    proxy: TcpProxy
    db: Database
    load: Load = field(default_factory=Load)
    rows: list[Row] = field(default_factory=list)
    stop_load: bool = False

    async def wait_until(self, check: Callable[[], bool], timeout: float) -> float | None:
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout:
                return None
            await asyncio.sleep(0.25)
        return time.monotonic() - started

    async def recovered(self) -> float | None:
        """Seconds until every message accepted so far reached the MX (None: not within the recovery timeout)."""
        wanted = set(self.load.accepted)
        return await self.wait_until(lambda: wanted <= self.handler.by_message.keys(), self.args.recovery_timeout)

    async def restart(self, name: str) -> None:
        await asyncio.sleep(random.uniform(0, 5))  # a random moment
        self.stack.kill(name)
        await asyncio.sleep(2)
        self.stack.start_one(name)
        await asyncio.to_thread(self.stack.wait_up, name)

    async def inject(self, fault: str) -> None:
        seconds = self.args.fault_seconds
        if fault.startswith("kill_"):
            await self.restart(fault.removeprefix("kill_"))
        elif fault == "redis_restart":
            await asyncio.sleep(random.uniform(0, 5))
            self.redis_server.kill()
            await asyncio.sleep(2)
            await asyncio.to_thread(self.redis_server.start, 30)
        elif fault == "redis_flush":
            client = redis.Redis.from_url(self.redis_server.url)
            client.flushall()
            client.close()
        elif fault == "db_cut":
            await self.proxy.stop()
            await asyncio.sleep(seconds)
            await self.proxy.start()
        else:
            self.handler.mode = fault.removeprefix("mx_")
            await asyncio.sleep(seconds)
            self.handler.mode = "ok"

    async def run_fault(self, fault: str) -> None:
        errors_before = sum(self.load.errors.values())
        print(f"  {fault}: injecting", flush=True)
        await self.inject(fault)
        took = await self.recovered()
        failed = sum(self.load.errors.values()) - errors_before
        self.rows.append(Row(fault, took, failed))
        print(
            f"  {fault}: {'not recovered' if took is None else f'recovered {took:.1f}s after the restore'}", flush=True
        )
        await asyncio.sleep(self.args.settle)

    async def send_load(self, sender: str, api_key: str) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.settings.API_PORT}", headers=headers, timeout=20, limits=limits
        ) as client:
            await open_loop(client, 8, sender, Schedule(self.args.rate, lambda _n: self.stop_load), self.load, 0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rate", type=float, default=5.0, help="sends per second, during the whole suite (below capacity)"
    )
    parser.add_argument("--fault-seconds", type=float, default=30.0, help="how long a cut or a bad MX lasts")
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults to inject, in this order")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load before the first fault")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of load between two faults")
    parser.add_argument("--recovery-timeout", type=float, default=300.0)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", help="copy the services' logs to this folder")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
    return args


def fault_settings(db_url: str, redis_url: str, prefix: str, mx_port: int, workdir: Path) -> Settings:
    """bench_send's settings on the proxy and the bench's own Redis, with retries and timeouts in seconds."""
    base = bench_settings(
        argparse.Namespace(redis_db=0, log_level="INFO", api_workers=1), "unused", prefix, mx_port, workdir
    )
    return base.model_copy(
        update={
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "SMTP_HOSTNAME": "mta.faults.example",
            "SMTP_RETRY_SCHEDULE": "2s,5s,10s,20s",
            "SMTP_TIMEOUT": "10s",
            "BOUNCE_DOMAIN": "bounces.faults.example",
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
            "ENVIRONMENT": "development",  # the webhook receiver is plain http on loopback
            "SHUTDOWN_GRACE_SECONDS": 15,
        }
    )


async def subscribe(settings: Settings, tenant_id: str, url: str) -> None:
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_maker(engine)) as session:
            await create_endpoint(session, settings, make_resolver(settings), tenant_id, url=url, enabled_events=["*"])
    finally:
        await engine.dispose()


async def events_and_stats(settings: Settings, tenant_id: str) -> tuple[set[str], Counter[str], Counter[str]]:
    """The tenant's event ids, the statistics they imply and the ``daily_stats`` totals (every category row)."""
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_maker(engine)) as session:
            events = (
                await session.execute(
                    select(EmailEvent.event_id, EmailEvent.event_type, EmailEvent.data).where(
                        EmailEvent.tenant_id == tenant_id
                    )
                )
            ).all()
            columns = [getattr(DailyStat, metric) for metric in STAT_METRICS]
            totals = (
                await session.execute(
                    select(*(func.sum(c) for c in columns)).where(
                        DailyStat.tenant_id == tenant_id, DailyStat.category == ALL_CATEGORIES
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    expected: Counter[str] = Counter(m for _id, kind, data in events for m in metrics_for(EventType(kind), data or {}))
    recorded: Counter[str] = Counter({m: int(v or 0) for m, v in zip(STAT_METRICS, totals, strict=True)})
    return {event_id for event_id, _kind, _data in events}, +expected, +recorded


async def tenant_of(settings: Settings) -> str:
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_maker(engine)) as session:
            return str(await session.scalar(select(Tenant.id).limit(1)))
    finally:
        await engine.dispose()


async def run(suite: Suite, sender: str, api_key: str, tenant_id: str, receiver: WebhookReceiver) -> None:
    load = asyncio.create_task(suite.send_load(sender, api_key))
    try:
        await asyncio.sleep(suite.args.warmup)
        for fault in suite.args.only.split(","):
            await suite.run_fault(fault)
    finally:
        suite.stop_load = True
        await load
    print(
        f"  load stopped: {len(suite.load.accepted)} accepted, errors {dict(suite.load.errors)}; draining", flush=True
    )
    ids = set(suite.load.accepted)
    drained = await suite.wait_until(
        lambda: ids <= suite.handler.by_message.keys() and suite.db.unfinished() == 0, suite.args.drain_timeout
    )
    event_ids, expected, recorded = await events_and_stats(suite.settings, tenant_id)

    def hooks() -> set[str]:
        return {json.loads(p.body)["event_id"] for p in receiver.posts("/faults")}

    hooked = await suite.wait_until(lambda: event_ids <= hooks(), 180)
    event_ids, expected, recorded = await events_and_stats(suite.settings, tenant_id)
    report(suite, drained, event_ids, hooks(), expected, recorded, hooked)


def report(
    suite: Suite,
    drained: float | None,
    event_ids: set[str],
    hooked: set[str],
    expected: Counter[str],
    recorded: Counter[str],
    hooks_took: float | None,
) -> None:
    ids = suite.load.accepted
    at_mx = suite.handler.by_message
    once = sum(1 for i in ids if at_mx.get(i, 0) == 1)
    twice = sum(1 for i in ids if at_mx.get(i, 0) > 1)
    lost = [i for i in ids if i not in at_mx]
    print()
    print("| fault | recovered after the restore (s) | sends refused meanwhile |")
    print("|---|---|---|")
    for row in suite.rows:
        took = "not within the timeout" if row.recovered_after is None else f"{row.recovered_after:.1f}"
        print(f"| {row.fault} | {took} | {row.failed_sends} |")
    print()
    print("| accepted | delivered once | delivered twice or more | duplicates per 10,000 | lost |")
    print("|---|---|---|---|---|")
    per_10k = twice * 10_000 / len(ids) if ids else 0.0
    print(f"| {len(ids)} | {once} | {twice} | {per_10k:.1f} | {len(lost)} |")
    print()
    missing_hooks = event_ids - hooked
    print(
        f"drained {'in ' + format(drained, '.1f') + ' s' if drained is not None else 'NOT within the timeout'}; "
        f"statuses {dict(suite.db.statuses(ids))}; events {len(event_ids)}, at the webhook {len(event_ids & hooked)} "
        f"(missing {len(missing_hooks)}{', took ' + format(hooks_took, '.1f') + ' s' if hooks_took else ''}); "
        f"daily_stats {'equal to' if expected == recorded else 'DIFFERENT from'} the events"
    )
    if expected != recorded:
        print(f"  from events {dict(expected)}\n  daily_stats {dict(recorded)}")
    if lost:
        print(f"lost: {', '.join(lost[:10])}")


def main() -> None:
    args = parse_args()
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    db_name = f"scaisend_faults_{uuid.uuid4().hex[:8]}"
    prefix = f"faults{uuid.uuid4().hex[:8]}:"
    workdir = Path(tempfile.mkdtemp(prefix="scaisend-faults-"))
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {db_name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    handler = FaultyHandler("bounces.faults.example", 0)
    mx = CountingMX(handler)
    redis_server = AofRedis(workdir / "redis")
    proxy = TcpProxy("127.0.0.1", 3306)
    receiver = WebhookReceiver().start()
    stack: FaultStack | None = None
    db: Database | None = None
    try:
        mx.start()
        redis_server.start()

        async def main_loop() -> None:
            nonlocal stack, db
            await proxy.start()
            settings = fault_settings(
                f"mysql+aiomysql://root@127.0.0.1:{proxy.port}/{db_name}", redis_server.url, prefix, mx.port, workdir
            )
            await asyncio.to_thread(migrate.upgrade, settings)
            account = await make_account(settings, f"shop-{uuid.uuid4().hex[:6]}.example")
            tenant_id = await tenant_of(settings)
            await subscribe(settings, tenant_id, receiver.url("/faults"))
            stack = FaultStack(settings, workdir, env=service_env(settings))
            await asyncio.to_thread(stack.start)
            db = Database(db_name)
            print(
                f"machine: {os.cpu_count()} cpus, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
                f"database {db_name} through proxy :{proxy.port}, redis :{redis_server.port}, {args.rate}/s; "
                f"faults: {args.only}",
                flush=True,
            )
            suite = Suite(args, settings, stack, handler, redis_server, proxy, db)
            try:
                await run(suite, account.sender, account.api_key, tenant_id, receiver)
            finally:
                await asyncio.to_thread(stack.stop)  # before the proxy its connections go through
                await proxy.stop()

        asyncio.run(main_loop())
    finally:
        if stack is not None:
            stack.stop()
            if args.keep_logs:
                shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True)
        if db is not None:
            db.close()
        receiver.stop()
        redis_server.stop()
        mx.stop()
        with contextlib.suppress(pymysql.Error):
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {db_name}")
        admin.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
