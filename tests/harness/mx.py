"""A real, scriptable SMTP receiving server (an "MX") for send-pipeline tests.

The server is aiosmtpd's SMTP protocol running on its own event loop in a background thread, listening on
127.0.0.1. Because it has its own loop it keeps answering even while a test blocks its own loop (for example
in a synchronous subprocess call), yet it is driven from async tests::

    async with ScriptableMX() as mx:
        mx.script("greylist@example.test", "421 4.7.0 Try again later", "250 2.1.5 OK")
        mx.script("gone@example.test", "550 5.1.1 User unknown")
        mx.script("late@example.test", AtData("554 5.7.1 Message rejected due to content"))
        ...  # deliver to 127.0.0.1:mx.port
        await mx.wait_for(1)
        assert mx.mailbox("greylist@example.test")[0].message["Subject"] == "hi"

Behaviours are consumed one per RCPT of that address (the last one repeats); unscripted addresses get
``default``. A 421 reply closes the connection afterwards, as RFC 5321 requires.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeAlias

from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "AtData",
    "Behaviour",
    "Drop",
    "ReceivedMessage",
    "ScriptableMX",
    "SessionRecord",
    "Slow",
    "make_self_signed_cert",
]

ACCEPT_RCPT = "250 2.1.5 OK"
ACCEPT_DATA = "250 2.0.0 OK: queued"


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before answering with ``then`` (for client timeouts and concurrency tests)."""

    seconds: float
    then: str = ACCEPT_RCPT


@dataclass(frozen=True)
class Drop:
    """Close the TCP connection abruptly instead of replying."""


@dataclass(frozen=True)
class AtData:
    """Accept the RCPT, then apply ``behaviour`` at the end of DATA (the first such recipient of a transaction wins)."""

    behaviour: str | Slow | Drop


Behaviour: TypeAlias = str | Slow | Drop | AtData


@dataclass
class SessionRecord:
    """One TCP connection to the MX."""

    index: int
    peer: tuple[str, int]
    ehlo: str | None = None
    starttls_attempted: bool = False
    tls: bool = False
    closed: bool = False


@dataclass
class ReceivedMessage:
    """One message accepted at the end of DATA; ``data`` is the exact (dot-unstuffed) wire bytes, CRLF and all."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple[str, int]
    session: SessionRecord
    mail_options: list[str] = field(default_factory=list)

    @cached_property
    def message(self) -> EmailMessage:
        """``data`` parsed with the modern email policy, line endings normalised to ``\\n``."""
        parsed = BytesParser(policy=email.policy.default).parsebytes(self.data.replace(b"\r\n", b"\n"))
        assert isinstance(parsed, EmailMessage)
        return parsed


def make_self_signed_cert(directory: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    """Write a fresh self-signed EC certificate (valid for ``hostname``, localhost, 127.0.0.1); return (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    sans = [x509.DNSName(hostname), x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "mx-cert.pem", directory / "mx-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _abort(transport: asyncio.BaseTransport | None) -> None:
    """Close without flushing: the peer sees the connection drop, with no reply."""
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    elif transport is not None:
        transport.close()


class _ScriptEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.data_behaviour: str | Slow | Drop | None = None


class _ScriptedSMTP(SMTP):
    """aiosmtpd SMTP with per-connection bookkeeping, 421-closes and an optional broken STARTTLS."""

    def __init__(self, mx: ScriptableMX, **kwargs: Any) -> None:
        super().__init__(mx._handler, **kwargs)
        self.mx = mx
        self.record: SessionRecord | None = None

    def _create_envelope(self) -> Envelope:
        return _ScriptEnvelope()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.record is None:  # not the re-entry after STARTTLS
            self.record = self.mx._open_session(self, transport.get_extra_info("peername"))
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.record is not None and not self.record.closed:
            self.mx._close_session(self)
        super().connection_lost(error)

    async def push(self, status: Any) -> None:
        await super().push(status)
        text = status.decode() if isinstance(status, bytes) else str(status)
        if text.startswith("421") and self.transport is not None:
            self.transport.close()

    async def smtp_STARTTLS(self, arg: str) -> None:
        assert self.record is not None
        self.record.starttls_attempted = True
        if not self.mx.broken_tls or arg:
            await super().smtp_STARTTLS(arg)
            return
        await self.push("220 2.0.0 Ready to start TLS")
        await self.hang_up()

    async def hang_up(self) -> None:
        """Abort the connection and wait to be cancelled by ``connection_lost``."""
        _abort(self.transport)
        await asyncio.get_running_loop().create_future()


class _Handler:
    """aiosmtpd handler hooks; all state lives on the ScriptableMX."""

    def __init__(self, mx: ScriptableMX) -> None:
        self.mx = mx

    async def handle_EHLO(
        self, server: _ScriptedSMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        assert server.record is not None
        server.record.ehlo = hostname
        return responses

    async def handle_HELO(self, server: _ScriptedSMTP, session: Session, envelope: Envelope, hostname: str) -> str:
        session.host_name = hostname
        assert server.record is not None
        server.record.ehlo = hostname
        return f"250 {server.hostname}"

    def handle_STARTTLS(self, server: _ScriptedSMTP, session: Session, envelope: Envelope) -> bool:
        assert server.record is not None
        server.record.tls = True
        return True

    async def handle_RCPT(
        self, server: _ScriptedSMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        behaviour = self.mx._next_behaviour(address)
        if isinstance(behaviour, AtData):
            assert isinstance(envelope, _ScriptEnvelope)
            if envelope.data_behaviour is None:
                envelope.data_behaviour = behaviour.behaviour
            behaviour = ACCEPT_RCPT
        reply = await _apply(server, behaviour)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server: _ScriptedSMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope, _ScriptEnvelope)
        reply = await _apply(server, envelope.data_behaviour or ACCEPT_DATA)
        if reply.startswith("2"):
            assert server.record is not None
            assert envelope.mail_from is not None
            content = envelope.original_content or b""
            self.mx._deliver(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(content),
                    peer=server.record.peer,
                    session=server.record,
                    mail_options=list(envelope.mail_options),
                )
            )
        return reply


async def _apply(server: _ScriptedSMTP, behaviour: str | Slow | Drop) -> str:
    if isinstance(behaviour, Drop):
        await server.hang_up()
    if isinstance(behaviour, Slow):
        await asyncio.sleep(behaviour.seconds)
        return behaviour.then
    assert isinstance(behaviour, str)
    return behaviour


class ScriptableMX:
    """A scriptable SMTP server on 127.0.0.1 that records sessions and captures accepted messages."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "mx.scaisend.test",
        tls: bool = False,
        broken_tls: bool = False,
        default: Behaviour = ACCEPT_RCPT,
        smtputf8: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.hostname = hostname
        self.tls = tls or broken_tls
        self.broken_tls = broken_tls
        self.default = default
        self.smtputf8 = smtputf8
        self.cert_path: Path | None = None
        self.messages: list[ReceivedMessage] = []
        self.sessions: list[SessionRecord] = []
        self.rcpt_attempts: dict[str, int] = {}
        self.active_sessions = 0
        self.peak_sessions = 0
        self._handler = _Handler(self)
        self._scripts: dict[str, list[Behaviour]] = {}
        self._lock = threading.Lock()
        self._protocols: set[_ScriptedSMTP] = set()
        self._tls_context: ssl.SSLContext | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._caller_loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    # ----- scripting and inspection (call from the test) -----

    def script(self, address: str, *behaviours: Behaviour) -> None:
        """Script replies for ``address`` (case-insensitive): one per RCPT attempt, the last one repeats."""
        if not behaviours:
            raise ValueError("script() needs at least one behaviour")
        with self._lock:
            self._scripts[address.lower()] = list(behaviours)

    def mailbox(self, address: str) -> list[ReceivedMessage]:
        """Accepted messages that had ``address`` (case-insensitive) among their recipients."""
        wanted = address.lower()
        with self._lock:
            return [m for m in self.messages if wanted in (r.lower() for r in m.rcpt_tos)]

    def attempts(self, address: str) -> int:
        """How many RCPT commands named ``address`` (case-insensitive) so far."""
        with self._lock:
            return self.rcpt_attempts.get(address.lower(), 0)

    @property
    def connections(self) -> int:
        """Number of TCP connections accepted so far."""
        return len(self.sessions)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` is true; re-checked on every server event. Raises TimeoutError."""
        assert self._changed is not None, "ScriptableMX is not started"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"ScriptableMX: condition not met within {timeout}s")
            self._changed.clear()
            if predicate():
                return
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages were accepted; return them all."""
        try:
            await self.wait_until(lambda: len(self.messages) >= count, timeout)
        except TimeoutError:
            raise TimeoutError(f"ScriptableMX: {len(self.messages)} of {count} messages within {timeout}s") from None
        with self._lock:
            return list(self.messages)

    # ----- lifecycle -----

    async def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("ScriptableMX already started")
        self._caller_loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        if self.tls:
            self._tls_context = self._make_tls_context()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=f"ScriptableMX:{self.hostname}", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(loop.create_server(self._make_protocol, self.host, self.port), loop)
        self._server = await asyncio.wrap_future(future)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._shutdown(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 5)
        loop.close()
        self._loop = self._thread = self._server = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ----- internals (run on the server thread) -----

    def _make_tls_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.broken_tls:  # only needed so that EHLO advertises STARTTLS
            return context
        self._tmpdir = tempfile.TemporaryDirectory(prefix="scaisend-mx-")
        self.cert_path, key_path = make_self_signed_cert(Path(self._tmpdir.name), self.hostname)
        context.load_cert_chain(self.cert_path, key_path)
        return context

    def _make_protocol(self) -> _ScriptedSMTP:
        return _ScriptedSMTP(
            self,
            hostname=self.hostname,
            ident="ScaiSend test MX",
            tls_context=self._tls_context,
            enable_SMTPUTF8=self.smtputf8,
            loop=self._loop,
        )

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for protocol in list(self._protocols):
            _abort(protocol.transport)
        await self._server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _notify(self) -> None:
        loop, event = self._caller_loop, self._changed
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def _open_session(self, protocol: _ScriptedSMTP, peer: tuple[str, int]) -> SessionRecord:
        with self._lock:
            record = SessionRecord(index=len(self.sessions), peer=peer)
            self.sessions.append(record)
            self._protocols.add(protocol)
            self.active_sessions += 1
            self.peak_sessions = max(self.peak_sessions, self.active_sessions)
        self._notify()
        return record

    def _close_session(self, protocol: _ScriptedSMTP) -> None:
        with self._lock:
            assert protocol.record is not None
            protocol.record.closed = True
            self._protocols.discard(protocol)
            self.active_sessions -= 1
        self._notify()

    def _next_behaviour(self, address: str) -> Behaviour:
        key = address.lower()
        with self._lock:
            self.rcpt_attempts[key] = self.rcpt_attempts.get(key, 0) + 1
            queue = self._scripts.get(key)
            if not queue:
                behaviour = self.default
            elif len(queue) == 1:
                behaviour = queue[0]
            else:
                behaviour = queue.pop(0)
        self._notify()
        return behaviour

    def _deliver(self, message: ReceivedMessage) -> None:
        with self._lock:
            self.messages.append(message)
        self._notify()
