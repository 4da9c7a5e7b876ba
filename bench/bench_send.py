"""Send pipeline throughput (issue "send pipeline", Benchmarks): API accept latency under an open-loop load, and
end-to-end deliveries per second with DKIM, through the real processes.

    .venv/bin/python bench/bench_send.py [--runs 3] [--accept-rate 200] [--accept-seconds 20] [--connections 16]
                                         [--pause-pipeline] [--e2e-seconds 60] [--e2e-rate 400] [--backlog 1500]
                                         [--skip-accept] [--skip-e2e] [--api-workers 1] [--workers 1]
                                         [--smtp-processes 1] [--exact-counts] [--profile DIR]

Starts ``scaisend serve``, ``scaisend worker`` and ``scaisend smtp`` as processes (API_WORKERS=1 unless
``--api-workers``, every other setting at its default) on a database of its own (``scaisend_bench_<hex>``, dropped
at the end) and a Redis DB index (``--redis-db``, 12) and queue prefix of their own, with ``SMTP_RELAY_HOST``
pointing at a capture MX that runs in this process (a thread with its own event loop; it stores nothing: it counts
messages by the VERP message id of the envelope, checks each for a DKIM-Signature header and keeps a few to verify
with ``dkim.verify`` afterwards). A tenant, a verified sender domain (with its DKIM key) and a ``mail.send`` API key
are made through the services.

Each run has two phases; after each the pipeline is drained and every accepted message is accounted for
(202 answers, messages received at the MX, message statuses in the database):

1. accept: single-recipient ``POST /v3/mail/send`` requests issued open-loop at ``--accept-rate`` for
   ``--accept-seconds``, at most ``--connections`` in flight over as many keep-alive connections (httpx). Latency is
   measured from the moment a request was *due*, so a slow server cannot hide queueing (no coordinated omission).
   The worker and SMTP service run meanwhile and deliver what is accepted, as in production; ``--pause-pipeline``
   stops them (SIGSTOP) during the measurement to time the API alone.
2. end to end: requests are fed at up to ``--e2e-rate`` whenever fewer than ``--backlog`` jobs wait in
   ``email:process`` + ``smtp:deliver``, so the pipeline never waits for work; once the backlog is reached the
   messages arriving at the MX are counted for ``--e2e-seconds``.

For each measurement window the script prints the CPU time of every process (API, worker, SMTP, this process,
MariaDB, Redis, and the rest of the machine) and the SQL statements and Redis commands per message: where the time
goes. ``--profile DIR`` also runs ``py-spy record`` on the three services during each window (collapsed stacks;
py-spy is not a project dependency: ``.venv/bin/pip install py-spy``). Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dkim  # type: ignore[import-untyped]
import httpx
import psutil
import pymysql
import redis
from aiosmtpd.smtp import SMTP, Envelope, Session

from scaisend.auth.api_keys import create_api_key
from scaisend.db import migrate
from scaisend.db.session import create_engine, session_maker, unit_of_work
from scaisend.delivery.envelope import parse_return_path
from scaisend.domains.service import add_domain, domain_keys, mark_verified
from scaisend.queues import Queues
from scaisend.settings import Settings, as_environment
from scaisend.tenants.service import create_tenant

ROOT = Path(__file__).resolve().parents[1]
MYSQL = "mysql+aiomysql://root@127.0.0.1:3306"
REDIS = "redis://127.0.0.1:6379"
FINAL = ("delivered", "bounced", "failed", "cancelled", "sandbox")
CRON_JOBS = (
    b"requeue_stale_messages",
    b"sweep_webhook_deliveries",
    b"flush_event_webhooks",
    b"requeue_stale_deliveries",
)  # arq keeps their job keys outside the queue prefix
SERVICES = {"api": "serve", "worker": "worker", "smtp": "smtp"}
PARAGRAPH = (
    "Thank you for your order. Your parcel leaves our warehouse today and should reach you within two "
    "working days. You can follow it at any time from your account page."
)


# --- the capture MX -------------------------------------------------------------------------------------------------
class CountingHandler:
    """aiosmtpd handler that keeps nothing but counts: messages per VERP message id, arrival times, how many
    carry a DKIM-Signature header, and the first ``sample`` messages of each phase for ``dkim.verify``."""

    def __init__(self, bounce_domain: str, sample: int) -> None:
        self.bounce_domain = bounce_domain
        self.sample = sample
        self.reset()

    def reset(self) -> None:
        self.arrivals: list[float] = []
        self.by_message: Counter[str] = Counter()
        self.unknown = 0
        self.with_dkim = 0
        self.samples: list[bytes] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        head = content[: content.find(b"\r\n\r\n")]
        if head.startswith(b"DKIM-Signature:") or b"\nDKIM-Signature:" in head:
            self.with_dkim += 1
        return_path = parse_return_path(envelope.mail_from or "", self.bounce_domain)
        if return_path is None:
            self.unknown += 1
        else:
            self.by_message[return_path.message_id] += len(envelope.rcpt_tos)
        if len(self.samples) < self.sample:
            self.samples.append(content)
        self.arrivals.append(time.perf_counter())
        return "250 2.0.0 Ok: counted"


class CountingMX:
    """The capture MX on loopback, served by a thread with its own event loop so the load generator's loop never
    delays it (and it never delays the load generator's latency measurements)."""

    def __init__(self, handler: CountingHandler) -> None:
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="capture-mx", daemon=True)
        self.server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> None:
        self.thread.start()

        async def serve() -> asyncio.Server:
            return await self.loop.create_server(
                lambda: SMTP(
                    self.handler, hostname="mx.bench.localhost", enable_SMTPUTF8=True, data_size_limit=50 * 1024 * 1024
                ),
                "127.0.0.1",
                0,
            )

        self.server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)
        self.port = int(self.server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# --- the services as processes --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_EXTRA_PORTS: dict[str, Callable[[], dict[str, str]]] = {
    "worker": lambda: {"WORKER_METRICS_PORT": str(free_port())},
    "smtp": lambda: {"SMTP_METRICS_PORT": str(free_port()), "SMTP_INBOUND_PORT": str(free_port())},
}


def service_env(settings: Settings) -> dict[str, str]:
    values, unset = as_environment(settings)
    return {
        k: v
        for k, v in os.environ.items()
        if k not in unset and not k.startswith(("DATABASE_", "REDIS_", "SMTP_", "API_"))
    } | values


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


@dataclass
class Stack:
    settings: Settings
    logs: Path
    counts: dict[str, int] = field(default_factory=dict)  # processes per service (--workers, --smtp-processes)
    procs: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)

    def start(self) -> None:
        env = service_env(self.settings)
        for name, command in SERVICES.items():
            self.procs[name] = []
            for index in range(self.counts.get(name, 1)):
                own = env | _EXTRA_PORTS.get(name, lambda: {})() if index else env  # a second process needs its ports
                with (self.logs / f"{name}{index or ''}.log").open("wb") as log:
                    self.procs[name].append(
                        subprocess.Popen(
                            [sys.executable, "-m", "scaisend", command],
                            env=own,
                            cwd=ROOT,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
        s = self.settings
        wait_http(f"http://127.0.0.1:{s.API_PORT}/ready", 240)
        wait_http(f"http://127.0.0.1:{s.WORKER_METRICS_PORT}/metrics", 60)
        wait_http(f"http://127.0.0.1:{s.SMTP_METRICS_PORT}/metrics", 60)

    def pause(self, names: tuple[str, ...], paused: bool) -> None:
        for name in names:
            for proc in self.procs[name]:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def all(self) -> list[subprocess.Popen[bytes]]:
        return [proc for procs in self.procs.values() for proc in procs]

    def stop(self) -> None:
        self.pause(tuple(self.procs), paused=False)
        for proc in self.all():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.all():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- exact round trips of this bench's own database and Redis DB (--exact-counts) -----------------------------------
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)?\b", re.IGNORECASE)
_LISTS = re.compile(r"\((?:\s*\?\s*,)+\s*\?\s*\)")


def statement_shape(sql: str) -> str:
    """A statement with its literals replaced by ``?`` (and ``IN (?, ?, ?)`` by ``IN (…)``), cut at 110 characters."""
    shape = _LISTS.sub("(…)", _LITERALS.sub("?", " ".join(sql.split())))
    return shape[:110]


BENCH_CLIENT = "scaisend-bench"  # the bench's own Redis connections (its backlog watcher), left out of the counts


class RedisMonitor:
    """``MONITOR`` on a socket of its own, counting the commands issued on one DB index (the bench's), by name;
    the bench's own connections (named :data:`BENCH_CLIENT`) are left out."""

    def __init__(self, db_index: int, redis_client: redis.Redis) -> None:
        self.tag = f"[{db_index} ".encode()
        self.redis_client = redis_client
        self.lines: list[bytes] = []
        self.commands: Counter[str] = Counter()
        self.sock = socket.create_connection(("127.0.0.1", 6379))
        self.sock.sendall(b"MONITOR\r\n")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.running = True
        self.thread.start()

    def _read(self) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while self.running:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return
                lines = (buffer + chunk).split(b"\r\n")
                buffer = lines.pop()
                self.lines.extend(lines)

    def _own(self) -> set[bytes]:
        clients = self.redis_client.client_list()
        return {c["addr"].encode() for c in clients if c.get("name") == BENCH_CLIENT}

    def stop(self) -> Counter[str]:
        own = self._own()
        self.running = False
        self.sock.close()
        self.thread.join(5)
        for line in self.lines:
            _, tag, rest = line.partition(self.tag)
            if tag:
                addr, _, command = rest.partition(b'] "')
                if addr not in own:
                    self.commands[command.partition(b'"')[0].decode().upper()] += 1
        return self.commands


class ExactCounts:
    """Between :meth:`start` and :meth:`stop`: every statement the bench database's connections ran (MariaDB's
    general log, switched on only for the window: it is a global setting of a shared server) and every Redis command
    on the bench's DB index (``MONITOR``). Other clients of the same servers are left out, unlike the counters."""

    def __init__(self, db: Database, db_name: str, redis_db: int, redis_client: redis.Redis) -> None:
        self.db, self.db_name, self.redis_db, self.redis_client = db, db_name, redis_db, redis_client
        self.threads: set[int] = set()
        self.monitor: RedisMonitor | None = None
        self.log_output = "FILE"

    def _threads(self) -> set[int]:
        with self.db.conn.cursor() as cur:
            cur.execute("SELECT id FROM information_schema.PROCESSLIST WHERE db = %s", (self.db_name,))
            return {int(row[0]) for row in cur.fetchall()}

    def start(self) -> None:
        with self.db.conn.cursor() as cur:
            cur.execute("SELECT @@log_output")
            self.log_output = str(cur.fetchone()[0])
            cur.execute("SET GLOBAL log_output = 'TABLE'")
            cur.execute("SELECT NOW(6)")
            self.since = cur.fetchone()[0]
            cur.execute("SET GLOBAL general_log = 1")
        self.threads = self._threads()
        self.monitor = RedisMonitor(self.redis_db, self.redis_client)

    def stop(self) -> tuple[Counter[str], Counter[str]]:
        commands = self.monitor.stop() if self.monitor else Counter()
        self.threads |= self._threads()
        with self.db.conn.cursor() as cur:
            cur.execute("SET GLOBAL general_log = 0")
            cur.execute("SET GLOBAL log_output = %s", (self.log_output,))
            own = {cur.connection.thread_id()}
            marks = ", ".join(["%s"] * len(self.threads - own)) or "NULL"
            cur.execute(
                "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log WHERE event_time >= %s "
                f"AND command_type IN ('Query', 'Execute') AND thread_id IN ({marks})",
                (self.since, *sorted(self.threads - own)),
            )
            shapes = Counter(statement_shape(row[0]) for row in cur.fetchall())
        return shapes, commands

    @staticmethod
    def report(shapes: Counter[str], commands: Counter[str], messages: int) -> list[str]:
        n = max(messages, 1)
        lines = [
            f"exact: {sum(shapes.values()) / n:.2f} SQL statements and {sum(commands.values()) / n:.2f} Redis "
            f"commands per message ({messages} messages; this bench's database and Redis DB only)"
        ]
        lines += [f"  sql {count / n:6.2f}  {shape}" for shape, count in shapes.most_common(40)]
        lines += [f"  redis {count / n:6.2f}  {name}" for name, count in commands.most_common()]
        return lines


# --- CPU accounting -------------------------------------------------------------------------------------------------
class Meter:
    """What each process of interest used between :meth:`mark` and :meth:`read`: CPU seconds (user, system), plus
    the statements MariaDB and the commands Redis served (server-wide counters: other clients count too)."""

    def __init__(self, stack: Stack, db: Database, redis_client: redis.Redis, profile: Path | None) -> None:
        self.db, self.redis, self.profile = db, redis_client, profile
        self.spies: list[subprocess.Popen[bytes]] = []
        self.procs: dict[str, list[psutil.Process]] = {}
        for name, popens in stack.procs.items():  # with API_WORKERS > 1 uvicorn's workers are children
            self.procs[name] = []
            for popen in popens:
                parent = psutil.Process(popen.pid)
                self.procs[name] += [parent, *parent.children(recursive=True)]
        self.procs["bench"] = [psutil.Process()]
        for proc in psutil.process_iter(["name"]):
            name = proc.info["name"] or ""
            if name in ("mariadbd", "mysqld"):
                self.procs["mariadb"] = [proc]
            elif name.startswith("redis-server"):
                self.procs["redis"] = [proc]
        self.start: dict[str, tuple[float, float]] = {}
        self.start_counts = (0, 0)
        self.start_machine = 0.0
        self.start_wall = 0.0

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    @staticmethod
    def _cpu(procs: list[psutil.Process]) -> tuple[float, float]:
        user = system = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            user, system = user + t.user, system + t.system
        return user, system

    def _counts(self) -> tuple[int, int]:
        return self.db.questions(), int(self.redis.info("stats")["total_commands_processed"])

    def _start_profiles(self, folder: Path) -> None:
        """``py-spy record`` of the three services (raw collapsed stacks, 100 samples/s) until :meth:`read`."""
        folder.mkdir(parents=True, exist_ok=True)
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.spies = [
            subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--nonblocking",
                    "--subprocesses",
                    "--format",
                    "raw",
                    "-o",
                    str(folder / f"{name}.txt"),
                    "-p",
                    str(self.procs[name][0].pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in SERVICES
        ]

    def mark(self) -> None:
        if self.profile is not None:
            self._start_profiles(self.profile)
        self.start = {name: self._cpu(proc) for name, proc in self.procs.items()}
        self.start_counts = self._counts()
        self.start_machine = self._busy()
        self.start_wall = time.perf_counter()

    def read(self) -> Usage:
        wall = time.perf_counter() - self.start_wall
        cpu = {}
        for name, proc in self.procs.items():
            user, system = self._cpu(proc)
            cpu[name] = (user - self.start[name][0], system - self.start[name][1])
        other = max(0.0, self._busy() - self.start_machine - sum(u + s for u, s in cpu.values()))
        statements, commands = (now - then for now, then in zip(self._counts(), self.start_counts, strict=True))
        for spy in self.spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        for spy in self.spies:
            spy.wait(60)
        return Usage(wall, cpu, other, statements, commands)


@dataclass
class Usage:
    wall: float
    cpu: dict[str, tuple[float, float]]  # process -> (user, system) seconds
    other: float  # the rest of the machine's busy time
    statements: int
    redis_commands: int

    def lines(self, messages: int) -> list[str]:
        n = max(messages, 1)
        parts = [
            f"{name} {(u + s) / self.wall * 100:.0f}% ({(u + s) / n * 1e3:.2f} ms, {s / max(u + s, 1e-9):.0%} sys)"
            for name, (u, s) in self.cpu.items()
        ]
        total = sum(u + s for u, s in self.cpu.values())
        return [
            f"cpu, % of one core (per message, system share): {', '.join(parts)}; "
            f"rest of the machine {self.other / self.wall * 100:.0f}%",
            f"per message: {total / n * 1e3:.1f} ms cpu in these processes, {self.statements / n:.1f} SQL "
            f"statements, {self.redis_commands / n:.1f} Redis commands (server-wide counters)",
        ]


# --- setup ----------------------------------------------------------------------------------------------------------
@dataclass
class Account:
    api_key: str
    sender: str
    domain: str
    selector: str
    public_key: str


async def make_account(settings: Settings, domain: str) -> Account:
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_maker(engine)) as session:
            tenant = await create_tenant(session, "Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
            _, secret = await create_api_key(session, tenant_id=tenant.id, name="bench", scopes=["mail.send"])
            row = await add_domain(session, settings, tenant.id, domain)
            await mark_verified(session, row)
            key = next(k for k in await domain_keys(session, row) if k.selector == row.active_selector)
            return Account(secret, f"orders@{domain}", domain, key.selector, key.public_key)
    finally:
        await engine.dispose()


def mail_body(sender: str, index: int) -> dict[str, Any]:
    """A small transactional message (text + HTML with two links; open and click tracking at their defaults)."""
    text = "\n\n".join([f"Hello customer {index},", PARAGRAPH, PARAGRAPH, "Your shop"])
    html = (
        f"<html><body><p>Hello customer {index},</p><p>{PARAGRAPH}</p>"
        f'<p><a href="https://shop.example/orders/{index}">Follow your order</a></p><p>{PARAGRAPH}</p>'
        '<p><a href="https://shop.example/help">Help</a></p></body></html>'
    )
    return {
        "personalizations": [{"to": [{"email": f"customer{index}@customers.example"}]}],
        "from": {"email": sender, "name": "Bench Shop"},
        "subject": f"Your order {index} is on its way",
        "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": html}],
    }


# --- load generation ------------------------------------------------------------------------------------------------
@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    issued: int = 0
    max_lag: float = 0.0  # how late the client issued a request after it was due
    first_due: float = 0.0
    last_answer: float = 0.0


async def post_one(
    client: httpx.AsyncClient, gate: asyncio.Semaphore, body: dict[str, Any], due: float, load: Load
) -> None:
    """One send, at most ``--connections`` in flight (waiting here is cheap; httpcore's own queue of waiting
    requests costs the client quadratic CPU). The latency counts from ``due``, waiting included."""
    load.max_lag = max(load.max_lag, time.perf_counter() - due)
    async with gate:
        try:
            response = await client.post("/v3/mail/send", json=body)
        except httpx.HTTPError as exc:
            load.errors[type(exc).__name__] += 1
            return
    now = time.perf_counter()
    load.last_answer = max(load.last_answer, now)
    if response.status_code == 202:
        load.latencies.append(now - due)
        load.accepted.append(response.json()["message_id"])
    else:
        load.errors[str(response.status_code)] += 1


@dataclass
class Schedule:
    """When to issue: ``rate`` per second until ``done()``; nothing while ``paused()`` (the schedule restarts
    when it resumes, no burst to catch up) or while ``max_pending`` requests are unanswered."""

    rate: float
    done: Callable[[int], bool]
    paused: Callable[[], bool] = lambda: False
    max_pending: int | None = None


async def open_loop(
    client: httpx.AsyncClient, connections: int, sender: str, schedule: Schedule, load: Load, first_index: int
) -> None:
    """Issue requests open-loop, each due at ``start + n / rate``: a slow answer never delays the next request."""
    gate = asyncio.Semaphore(connections)
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    load.first_due = load.first_due or start
    sent = 0
    while not schedule.done(load.issued):
        now = time.perf_counter()
        if schedule.paused() or (schedule.max_pending is not None and len(tasks) >= schedule.max_pending):
            await asyncio.sleep(0.01)
            start, sent = time.perf_counter(), 0
            continue
        due = start + sent / schedule.rate
        if due > now:
            await asyncio.sleep(due - now)
            continue
        body = mail_body(sender, first_index + load.issued)
        task = asyncio.create_task(post_one(client, gate, body, due, load))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
        load.issued += 1
    if tasks:
        await asyncio.gather(*tasks)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]


# --- accounting -----------------------------------------------------------------------------------------------------
class Database:
    def __init__(self, name: str) -> None:
        self.conn = pymysql.connect(host="127.0.0.1", user="root", database=name, autocommit=True)

    def unfinished(self) -> int:
        marks = ", ".join(["%s"] * len(FINAL))
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM messages WHERE status NOT IN ({marks})", FINAL)
            return int(cur.fetchone()[0])

    def statuses(self, ids: list[str]) -> Counter[str]:
        found: Counter[str] = Counter()
        with self.conn.cursor() as cur:
            for i in range(0, len(ids), 1000):
                chunk = ids[i : i + 1000]
                cur.execute(
                    f"SELECT status, COUNT(*) FROM messages WHERE id IN ({', '.join(['%s'] * len(chunk))}) "
                    "GROUP BY status",
                    chunk,
                )
                found.update({status: int(n) for status, n in cur.fetchall()})
        found["(no row)"] = len(ids) - sum(found.values())
        return +found

    def questions(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
            return int(cur.fetchone()[1])

    def total(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM messages")
            return int(cur.fetchone()[0])

    def stage_times(self, ids: list[str]) -> dict[str, float]:
        """Median seconds from accept to composed, composed to delivered, and accept to delivered."""
        spans: dict[str, list[float]] = {"accept->composed": [], "composed->delivered": [], "accept->delivered": []}
        with self.conn.cursor() as cur:
            for i in range(0, len(ids), 1000):
                chunk = ids[i : i + 1000]
                cur.execute(
                    "SELECT TIMESTAMPDIFF(MICROSECOND, created_at, processed_at), "
                    "TIMESTAMPDIFF(MICROSECOND, processed_at, delivered_at), "
                    "TIMESTAMPDIFF(MICROSECOND, created_at, delivered_at) "
                    f"FROM messages WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                for row in cur.fetchall():
                    for name, value in zip(spans, row, strict=True):
                        if value is not None:
                            spans[name].append(value / 1e6)
        return {name: statistics.median(values) for name, values in spans.items() if values}

    def close(self) -> None:
        self.conn.close()


def drain(db: Database, handler: CountingHandler, ids: list[str], timeout: float) -> float:
    """Wait until every accepted message reached the MX and no message is unfinished; the seconds it took."""
    start = time.monotonic()
    wanted = set(ids)
    while time.monotonic() - start < timeout:
        if wanted.issubset(handler.by_message.keys()) and db.unfinished() == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def account(db: Database, handler: CountingHandler, account_: Account, load: Load, rows_before: int) -> str:
    ids = load.accepted
    received = handler.by_message
    lost = [i for i in ids if i not in received]
    duplicates = sum(1 for i in ids if received.get(i, 0) > 1)
    statuses = db.statuses(ids)
    extra_rows = db.total() - rows_before - len(ids)
    record = f"v=DKIM1; k=rsa; p={account_.public_key}".encode()
    verified = sum(bool(dkim.verify(m, dnsfunc=lambda _name, timeout=5: record)) for m in handler.samples)
    return (
        f"  accounting: {len(ids)} accepted (202), {sum(1 for i in ids if i in received)} received at the MX "
        f"({handler.unknown} unknown senders, {duplicates} duplicates), lost {len(lost)}"
        f"{' e.g. ' + ', '.join(lost[:5]) if lost else ''}; statuses {dict(statuses)}; "
        f"rows without a 202: {extra_rows}; DKIM-Signature on {handler.with_dkim}/{len(handler.arrivals)}, "
        f"dkim.verify passed {verified}/{len(handler.samples)}"
    )


# --- the two phases -------------------------------------------------------------------------------------------------
@dataclass
class Bench:
    args: argparse.Namespace
    settings: Settings
    stack: Stack
    handler: CountingHandler
    account: Account
    db: Database
    queues: Queues
    redis: redis.Redis
    db_name: str = ""
    results: dict[str, list[float]] = field(default_factory=dict)
    issued: int = 0
    run: int = 0

    def meter(self, phase: str) -> Meter:
        profile = Path(self.args.profile) / f"run{self.run}-{phase}" if self.args.profile else None
        return Meter(self.stack, self.db, self.redis, profile)

    def record(self, name: str, value: float) -> None:
        self.results.setdefault(name, []).append(value)

    def client(self) -> httpx.AsyncClient:
        n = self.args.connections
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.settings.API_PORT}",
            timeout=30,
            headers={"Authorization": f"Bearer {self.account.api_key}"},
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )

    def backlog(self) -> int:
        return int(self.redis.zcard(self.queues.email_process)) + int(self.redis.zcard(self.queues.smtp_deliver))

    def finish(self, load: Load, rows_before: int) -> None:
        waited = drain(self.db, self.handler, load.accepted, self.args.drain_timeout)
        print(f"  drained in {waited:.1f}s after the load stopped")
        print(account(self.db, self.handler, self.account, load, rows_before))
        spans = self.db.stage_times(load.accepted)
        print("  median stage times: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in spans.items()))
        self.record("lost", len([i for i in load.accepted if i not in self.handler.by_message]))

    async def accept_phase(self) -> None:
        args, load = self.args, Load()
        meter = self.meter("accept")
        async with self.client() as client:
            warm = await client.post("/v3/mail/send", json=mail_body(self.account.sender, 0))
            await asyncio.to_thread(drain, self.db, self.handler, [warm.json()["message_id"]], 60)
            rows_before = self.db.total()
            self.handler.reset()
            if args.pause_pipeline:
                self.stack.pause(("worker", "smtp"), paused=True)
            meter.mark()
            total = round(args.accept_rate * args.accept_seconds)
            try:
                await open_loop(
                    client,
                    args.connections,
                    self.account.sender,
                    Schedule(args.accept_rate, lambda n: n >= total),
                    load,
                    self.issued,
                )
            finally:
                used = meter.read()
                self.stack.pause(("worker", "smtp"), paused=False)
        self.issued += load.issued
        lat = sorted(load.latencies)
        elapsed = load.last_answer - load.first_due
        rate = len(load.accepted) / elapsed if elapsed > 0 else 0.0
        errors = sum(load.errors.values())
        paused = " (worker and SMTP paused)" if args.pause_pipeline else ""
        print(
            f"accept{paused}: {load.issued} requests due at {args.accept_rate:.0f}/s "
            f"over {args.accept_seconds:.0f}s, "
            f"{args.connections} connections: achieved {rate:.1f}/s, p50 {percentile(lat, 0.5) * 1e3:.1f} ms, "
            f"p99 {percentile(lat, 0.99) * 1e3:.1f} ms, max {percentile(lat, 1.0) * 1e3:.1f} ms, "
            f"errors {errors} {dict(load.errors) if errors else ''}, client max lag {load.max_lag * 1e3:.1f} ms"
        )
        for line in used.lines(len(load.accepted)):
            print("  " + line)
        for name, value in (
            ("accept rate", rate),
            ("accept p50 ms", percentile(lat, 0.5) * 1e3),
            ("accept p99 ms", percentile(lat, 0.99) * 1e3),
            ("accept errors", errors),
        ):
            self.record(name, value)
        self.finish(load, rows_before)

    async def e2e_phase(self) -> None:
        args, load = self.args, Load()
        rows_before = self.db.total()
        self.handler.reset()
        meter = self.meter("e2e")
        backlog = {"now": 0}
        stop_feeding, filled = asyncio.Event(), asyncio.Event()

        async def watch_backlog() -> None:
            while not stop_feeding.is_set():
                backlog["now"] = await asyncio.to_thread(self.backlog)
                if backlog["now"] >= args.backlog:
                    filled.set()
                await asyncio.sleep(0.1)

        async with self.client() as client:
            watcher = asyncio.create_task(watch_backlog())
            schedule = Schedule(
                args.e2e_rate,
                lambda _n: stop_feeding.is_set(),
                lambda: backlog["now"] >= args.backlog,
                max_pending=2 * args.connections,
            )
            feeder = asyncio.create_task(
                open_loop(client, args.connections, self.account.sender, schedule, load, self.issued)
            )
            fill_start = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(filled.wait(), args.fill_timeout)
            fill_time = time.perf_counter() - fill_start
            at_start, issued_at_start = len(self.handler.arrivals), load.issued
            exact = ExactCounts(self.db, self.db_name, args.redis_db, self.redis) if args.exact_counts else None
            if exact is not None:
                exact.start()
            meter.mark()
            for step in range(10, int(args.e2e_seconds) + 10, 10):
                await asyncio.sleep(min(10.0, args.e2e_seconds - step + 10))
                print(
                    f"  {min(step, args.e2e_seconds):.0f}s: {len(self.handler.arrivals) - at_start} at the MX, "
                    f"{load.issued - issued_at_start} fed, backlog {backlog['now']}"
                )
            delivered = len(self.handler.arrivals) - at_start
            fed = load.issued - issued_at_start
            used = meter.read()
            counted = exact.stop() if exact is not None else None
            delivered_counted = len(self.handler.arrivals) - at_start
            backlog_at_end = backlog["now"]
            stop_feeding.set()
            await feeder
            await watcher
        self.issued += load.issued
        rate = delivered / used.wall
        print(
            f"end to end: backlog {args.backlog} reached in {fill_time:.1f}s; over {used.wall:.1f}s "
            f"{delivered} messages reached the MX: {rate:.1f} messages/s (fed {fed / used.wall:.1f}/s, "
            f"backlog at the end {backlog_at_end}, errors {sum(load.errors.values())} {dict(load.errors) or ''})"
        )
        for line in used.lines(delivered):
            print("  " + line)
        if counted is not None:
            for line in ExactCounts.report(*counted, delivered_counted):
                print("  " + line)
            self.record("e2e SQL statements/message", sum(counted[0].values()) / max(delivered_counted, 1))
            self.record("e2e Redis commands/message", sum(counted[1].values()) / max(delivered_counted, 1))
        self.record("e2e messages/s", rate)
        self.record("e2e errors", sum(load.errors.values()))
        self.finish(load, rows_before)


def bench_settings(args: argparse.Namespace, db: str, prefix: str, mx_port: int, workdir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"{MYSQL}/{db}",
        REDIS_URL=f"{REDIS}/{args.redis_db}",
        REDIS_QUEUE_PREFIX=prefix,
        SECRET_KEY=uuid.uuid4().hex,
        SMTP_RELAY_HOST=f"127.0.0.1:{mx_port}",
        SMTP_HOSTNAME="mta.bench.example",
        BOUNCE_DOMAIN="bounces.bench.example",
        API_HOST="127.0.0.1",
        API_PORT=free_port(),
        PUBLIC_BASE_URL="http://127.0.0.1:8000",
        WORKER_METRICS_PORT=free_port(),
        SMTP_METRICS_PORT=free_port(),
        EXPORTER_PORT=free_port(),
        METRICS_HOST="127.0.0.1",
        SMTP_INBOUND_HOST="127.0.0.1",
        SMTP_INBOUND_PORT=free_port(),
        INBOUND_QUARANTINE_PATH=str(workdir / "inbound"),
        IMAGE_STORE_PATH=str(workdir / "images"),
        LOG_LEVEL=args.log_level,
        API_WORKERS=args.api_workers,
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics") if args.api_workers > 1 else "",
    )


def summary(results: dict[str, list[float]]) -> None:
    print("medians over runs:")
    for name, values in results.items():
        print(f"  {name}: {statistics.median(values):.1f}  (runs: {', '.join(f'{v:.1f}' for v in values)})")


async def run_all(bench: Bench) -> None:
    args = bench.args
    for run in range(1, args.runs + 1):
        bench.run = run
        print(f"--- run {run}/{args.runs}, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.skip_accept:
            await bench.accept_phase()
        if not args.skip_e2e:
            await bench.e2e_phase()


def cleanup_redis(client: redis.Redis, prefix: str) -> int:
    """Remove this run's queue keys and whatever arq left for its jobs (none when every job ran)."""
    keys = list(client.scan_iter(f"{prefix}*"))
    keys += [k for k in client.scan_iter("arq:*") if b"msg_" in k or any(c in k for c in CRON_JOBS)]
    if keys:
        client.delete(*keys)
    return len(keys)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat both phases; medians are printed at the end")
    parser.add_argument("--accept-rate", type=float, default=200.0, help="requests per second (open loop)")
    parser.add_argument("--accept-seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16, help="HTTP keep-alive connections to the API")
    parser.add_argument("--api-workers", type=int, default=1, help="API_WORKERS (uvicorn worker processes)")
    parser.add_argument("--workers", type=int, default=1, help="`scaisend worker` processes (compose)")
    parser.add_argument("--smtp-processes", type=int, default=1, help="`scaisend smtp` processes (delivery)")
    parser.add_argument(
        "--pause-pipeline",
        action="store_true",
        help="SIGSTOP the worker and SMTP service during the accept measurement (the API alone)",
    )
    parser.add_argument("--e2e-seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--e2e-rate", type=float, default=400.0, help="highest feed rate, requests per second")
    parser.add_argument("--backlog", type=int, default=1500, help="jobs kept waiting in email:process+smtp:deliver")
    parser.add_argument("--fill-timeout", type=float, default=60.0, help="longest wait for the backlog to build")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--skip-accept", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis DB index (the tests use 9)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--dkim-sample", type=int, default=20, help="messages per phase checked with dkim.verify")
    parser.add_argument("--keep-logs", help="copy the services' logs to this folder")
    parser.add_argument(
        "--exact-counts",
        action="store_true",
        help="count the end-to-end window's statements (general log) and Redis commands (MONITOR) of this bench "
        "only, by shape; keep the window short (--e2e-seconds 5): the general log is global on the server",
    )
    parser.add_argument("--profile", help="folder for py-spy profiles of the services in each measurement window")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))  # clean up (finally) when terminated
    db_name = f"scaisend_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"bench{uuid.uuid4().hex[:8]}:"
    workdir = Path(tempfile.mkdtemp(prefix="scaisend-bench-"))
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {db_name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    handler = CountingHandler("bounces.bench.example", args.dkim_sample)
    mx = CountingMX(handler)
    redis_client = redis.Redis.from_url(f"{REDIS}/{args.redis_db}", client_name=BENCH_CLIENT)
    stack: Stack | None = None
    db: Database | None = None
    try:
        mx.start()
        settings = bench_settings(args, db_name, prefix, mx.port, workdir)
        (workdir / "metrics").mkdir()  # prometheus-client opens it at import, before `serve` would make it
        migrate.upgrade(settings)
        account_ = asyncio.run(make_account(settings, f"shop-{uuid.uuid4().hex[:6]}.example"))
        stack = Stack(settings, workdir, {"worker": args.workers, "smtp": args.smtp_processes})
        stack.start()
        db = Database(db_name)
        print(
            f"machine: {os.cpu_count()} cpus, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
            f"database {db_name}, redis db {args.redis_db} prefix {prefix}"
        )
        bench = Bench(args, settings, stack, handler, account_, db, Queues(prefix), redis_client, db_name)
        asyncio.run(run_all(bench))
        summary(bench.results)
    finally:
        if stack is not None:
            stack.stop()
        mx.stop()
        if db is not None:
            db.close()
        if args.keep_logs:
            shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {db_name}")
        print(f"removed {cleanup_redis(redis_client, prefix)} redis keys, dropped {db_name}")


if __name__ == "__main__":
    main()
