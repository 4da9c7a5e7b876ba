"""A real authoritative DNS server on loopback (dnslib), serving records that tests add at run time.

UDP and TCP listen on 127.0.0.1 on the same free port, each in a background thread. Code under test reaches it
only through dnspython, pointed at ``nameserver_setting`` (ScaiSend's ``DNS_NAMESERVERS``)::

    with LoopbackDNS() as dns:
        dns.add_mx("example.test", "mx1.example.test", ip="127.0.0.1")
        dns.add_txt("sel._domainkey.example.test", "v=DKIM1; k=rsa; p=" + "A" * 400)
        settings = load_settings(DNS_NAMESERVERS=dns.nameserver_setting)

Unknown names answer NXDOMAIN; known names (or parents of known names) without the asked type answer NOERROR
with an empty answer section. ``add_servfail`` and ``add_timeout`` script resolver failures.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A, DNSError, DNSLabel, DNSRecord  # type: ignore[import-untyped]
from dnslib.server import DNSServer  # type: ignore[import-untyped]

__all__ = ["LoopbackDNS"]

_TXT_CHUNK = 255
_SERVFAIL = "SERVFAIL"
_TIMEOUT = "TIMEOUT"


def _key(name: str) -> str:
    return str(DNSLabel(name.lower())).rstrip(".")


class _QuietLogger:
    """dnslib logger interface that logs nothing (the default one prints every query)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("log_"):
            return lambda *args: None
        raise AttributeError(name)


class LoopbackDNS:
    """A dnslib DNS server on 127.0.0.1 (UDP + TCP, one port) with a mutable in-memory record set."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ttl: int = 60) -> None:
        self.host = host
        self.port = port
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []
        self._records: dict[str, list[RR]] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.Lock()
        self._servers: list[DNSServer] = []

    # ----- records -----

    @property
    def nameserver_setting(self) -> str:
        """Value for ScaiSend's ``DNS_NAMESERVERS`` setting, e.g. ``"127.0.0.1:53535"``."""
        return f"{self.host}:{self.port}"

    def add_mx(self, domain: str, host: str, preference: int = 10, *, ip: str | None = None) -> None:
        """Add an MX record; with ``ip`` also add an A record for ``host``."""
        self._add(domain, MX(host, preference))
        if ip is not None:
            self.add_a(host, ip)

    def add_null_mx(self, domain: str) -> None:
        """Add an RFC 7505 null MX (``MX 0 .``): the domain accepts no mail."""
        self._add(domain, MX(".", 0))

    def add_a(self, name: str, ip: str) -> None:
        self._add(name, A(ip))

    def add_aaaa(self, name: str, ip: str) -> None:
        self._add(name, AAAA(ip))

    def add_txt(self, name: str, text: str | bytes) -> None:
        """Add one TXT record; text longer than 255 bytes is split into 255-byte strings (as DKIM keys need)."""
        data = text.encode() if isinstance(text, str) else text
        chunks = [data[i : i + _TXT_CHUNK] for i in range(0, len(data), _TXT_CHUNK)] or [b""]
        self._add(name, TXT(chunks))

    def add_servfail(self, name: str) -> None:
        """Answer every query for ``name`` with SERVFAIL."""
        with self._lock:
            self._failures[_key(name)] = _SERVFAIL

    def add_timeout(self, name: str) -> None:
        """Never answer queries for ``name`` (the client times out)."""
        with self._lock:
            self._failures[_key(name)] = _TIMEOUT

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Remove all records of ``name`` (and its scripted failure), or only those of type ``rtype``."""
        key = _key(name)
        with self._lock:
            if rtype is None:
                self._records.pop(key, None)
                self._failures.pop(key, None)
                return
            qtype = getattr(QTYPE, rtype.upper())
            kept = [rr for rr in self._records.get(key, []) if rr.rtype != qtype]
            if kept:
                self._records[key] = kept
            else:
                self._records.pop(key, None)

    def clear(self) -> None:
        """Forget all records, failures and the query log."""
        with self._lock:
            self._records.clear()
            self._failures.clear()
            self.queries.clear()

    def _add(self, name: str, rdata: Any) -> None:
        key = _key(name)
        rr = RR(key, getattr(QTYPE, type(rdata).__name__), rdata=rdata, ttl=self.ttl)
        with self._lock:
            self._records.setdefault(key, []).append(rr)

    # ----- dnslib resolver interface (runs on server threads) -----

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        qname = _key(str(request.q.qname))
        qtype = request.q.qtype
        reply = request.reply()
        with self._lock:
            self.queries.append((qname, QTYPE.get(qtype)))
            failure = self._failures.get(qname)
            records = list(self._records.get(qname, []))
            exists = bool(records) or any(k.endswith("." + qname) for k in self._records)
        if failure == _TIMEOUT:
            raise DNSError(f"scripted timeout for {qname}")  # dnslib's handler drops the query
        if failure == _SERVFAIL:
            reply.header.rcode = RCODE.SERVFAIL
        elif not exists:
            reply.header.rcode = RCODE.NXDOMAIN
        else:
            for rr in records:
                if qtype in (rr.rtype, QTYPE.ANY):
                    reply.add_answer(rr)
        return reply

    # ----- lifecycle -----

    def start(self) -> Self:
        if self._servers:
            raise RuntimeError("LoopbackDNS already started")
        for _ in range(20):
            udp = DNSServer(self, address=self.host, port=self.port, logger=_QuietLogger())
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self, address=self.host, port=port, tcp=True, logger=_QuietLogger())
            except OSError:
                udp.server.server_close()
                if self.port:
                    raise
                continue
            self.port = port
            self._servers = [udp, tcp]
            break
        else:
            raise OSError("LoopbackDNS: no free port with both UDP and TCP available")
        for server in self._servers:
            server.start_thread()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
