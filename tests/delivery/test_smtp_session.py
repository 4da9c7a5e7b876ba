"""The SMTP conversation against the scriptable loopback MX (RFC 5321, RFC 3207; D12, D13): EHLO name, STARTTLS per
policy (opportunistic fallback, required), per-recipient replies, and aiosmtplib failures turned into results."""

from __future__ import annotations

import asyncio
import ssl

from scaisend.clock import ManualClock
from scaisend.delivery.result import BounceType, Outcome
from scaisend.delivery.smtp_session import ConnectFailure, SmtpConnection, open_connection, send_message
from scaisend.delivery.tls_policy import TlsPlan, TlsPolicy
from tests.factories.delivery import build_mime
from tests.harness.fixtures_net import MXFactory
from tests.harness.mx import AtData, Drop, ScriptableMX, Slow

FROM = "bounces+msg_01test@bounces.scaisend.test"
DATA = build_mime("msg_01test", "news@acme.example", ["a@example.test"])


async def connect(
    mx: ScriptableMX,
    policy: TlsPolicy | None = None,
    *,
    host: str = "mx.scaisend.test",
    timeout: float = 5.0,
    port: int | None = None,
) -> SmtpConnection | ConnectFailure:
    return await open_connection(
        host,
        "127.0.0.1",
        port or mx.port,
        helo_name="mta.scaisend.test",
        timeout=timeout,
        policy=policy or TlsPolicy("opportunistic", ManualClock()),
    )


async def connected(mx: ScriptableMX, policy: TlsPolicy | None = None, **kwargs: float) -> SmtpConnection:
    conn = await connect(mx, policy, **kwargs)  # type: ignore[arg-type]
    assert isinstance(conn, SmtpConnection), conn
    return conn


class TestOpenConnection:
    async def test_ehlo_with_our_hostname_in_plaintext_when_no_starttls(self, mx: ScriptableMX) -> None:
        conn = await connected(mx)
        await conn.close()
        assert conn.tls is False
        assert mx.sessions[0].ehlo == "mta.scaisend.test"
        assert not mx.sessions[0].starttls_attempted

    async def test_starttls_when_offered_without_checking_the_certificate(self, mx_factory: MXFactory) -> None:
        server = await mx_factory(tls=True)
        conn = await connected(server)
        await conn.close()
        assert conn.tls is True
        assert server.sessions[0].tls

    async def test_broken_starttls_retries_in_plaintext_and_remembers(self, mx_factory: MXFactory) -> None:
        server = await mx_factory(broken_tls=True)
        policy = TlsPolicy("opportunistic", ManualClock())
        conn = await connected(server, policy)
        await conn.close()
        assert conn.tls is False
        assert [s.starttls_attempted for s in server.sessions] == [True, False]
        assert policy.plan("mx.scaisend.test") is TlsPlan.PLAINTEXT
        again = await connected(server, policy)
        await again.close()
        assert [s.starttls_attempted for s in server.sessions] == [True, False, False]

    async def test_required_without_starttls_fails_with_4_7_10(self, mx: ScriptableMX) -> None:
        failure = await connect(mx, TlsPolicy("required", ManualClock()))
        assert isinstance(failure, ConnectFailure)
        assert (failure.status, failure.code) == ("4.7.10", 451)
        assert "does not offer STARTTLS" in failure.response

    async def test_required_refuses_an_untrusted_certificate(self, mx_factory: MXFactory) -> None:
        server = await mx_factory(tls=True)
        failure = await connect(server, TlsPolicy("required", ManualClock()))
        assert isinstance(failure, ConnectFailure)
        assert failure.status == "4.7.10"
        assert "certificate" in failure.response.lower()

    async def test_required_accepts_a_trusted_certificate(self, mx_factory: MXFactory) -> None:
        server = await mx_factory(tls=True)
        assert server.cert_path is not None
        trusted = ssl.create_default_context(cafile=str(server.cert_path))
        conn = await connected(server, TlsPolicy("required", ManualClock(), verified_context=trusted))
        await conn.close()
        assert conn.tls

    async def test_refused(self, mx: ScriptableMX) -> None:
        failure = await connect(mx, host="mx.scaisend.test", port=1)
        assert isinstance(failure, ConnectFailure)
        assert (failure.label, failure.status) == ("refused", "4.4.1")

    async def test_greeting_refused_keeps_the_servers_reply(self, mx: ScriptableMX) -> None:
        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"554 5.3.2 No SMTP service here\r\n")
            await writer.drain()
            await reader.read()
            writer.close()

        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        async with server:
            failure = await connect(mx, port=server.sockets[0].getsockname()[1])
        assert isinstance(failure, ConnectFailure)
        assert (failure.label, failure.code, failure.response) == ("error", 554, "554 5.3.2 No SMTP service here")
        (result,) = failure.results(["a@example.test"])
        assert (result.outcome, result.response) == (Outcome.DEFERRED, "554 5.3.2 No SMTP service here")


class TestSendMessage:
    async def test_delivered(self, mx: ScriptableMX) -> None:
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["a@example.test"], DATA)
        await conn.close()
        assert (result.outcome, result.response, result.mx_host) == (
            Outcome.DELIVERED,
            "250 2.0.0 OK: queued",
            "mx.scaisend.test",
        )
        (received,) = mx.mailbox("a@example.test")
        assert received.mail_from == FROM
        assert received.data == DATA

    async def test_each_recipient_gets_its_own_reply(self, mx: ScriptableMX) -> None:
        mx.script("gone@example.test", "550 5.1.1 User unknown")
        mx.script("full@example.test", "452 4.2.2 Mailbox full")
        conn = await connected(mx)
        results = await send_message(conn, FROM, ["ok@example.test", "gone@example.test", "full@example.test"], DATA)
        assert [(r.recipient, r.outcome) for r in results] == [
            ("ok@example.test", Outcome.DELIVERED),
            ("gone@example.test", Outcome.BOUNCED),
            ("full@example.test", Outcome.DEFERRED),
        ]
        assert results[1].bounce_type is BounceType.HARD
        assert conn.usable
        await conn.close()
        assert mx.messages[0].rcpt_tos == ["ok@example.test"]

    async def test_all_recipients_refused_resets_and_keeps_the_connection(self, mx: ScriptableMX) -> None:
        mx.script("gone@example.test", "550 5.1.1 User unknown")
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["gone@example.test"], DATA)
        assert result.outcome is Outcome.BOUNCED
        assert conn.usable
        (again,) = await send_message(conn, FROM, ["ok@example.test"], DATA)
        await conn.close()
        assert again.outcome is Outcome.DELIVERED
        assert mx.connections == 1

    async def test_rejected_at_end_of_data(self, mx: ScriptableMX) -> None:
        mx.script("a@example.test", AtData("554 5.7.1 Message rejected due to content"))
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["a@example.test"], DATA)
        await conn.close()
        assert (result.outcome, result.response) == (Outcome.BLOCKED, "554 5.7.1 Message rejected due to content")

    async def test_421_defers_and_breaks_the_connection(self, mx: ScriptableMX) -> None:
        mx.script("a@example.test", "421 4.7.0 Try again later")
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["a@example.test"], DATA)
        await conn.close()
        assert (result.outcome, result.code) == (Outcome.DEFERRED, 421)
        assert conn.broken

    async def test_timeout_defers_and_breaks_the_connection(self, mx: ScriptableMX) -> None:
        mx.script("a@example.test", Slow(1.0))
        conn = await connected(mx, timeout=0.3)
        (result,) = await send_message(conn, FROM, ["a@example.test"], DATA)
        await conn.close()
        assert (result.outcome, result.enhanced_status) == (Outcome.DEFERRED, "4.4.1")
        assert result.response == "451 4.4.1 Timed out waiting for mx.scaisend.test"
        assert conn.broken

    async def test_dropped_during_data_defers(self, mx: ScriptableMX) -> None:
        mx.script("a@example.test", AtData(Drop()))
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["a@example.test"], DATA)
        await conn.close()
        assert (result.outcome, result.enhanced_status) == (Outcome.DEFERRED, "4.4.2")
        assert conn.broken
        assert mx.messages == []

    async def test_non_ascii_recipient_uses_smtputf8(self, mx: ScriptableMX) -> None:
        conn = await connected(mx)
        (result,) = await send_message(conn, FROM, ["jörg@example.test"], DATA)
        await conn.close()
        assert result.outcome is Outcome.DELIVERED
        assert "SMTPUTF8" in mx.messages[0].mail_options

    async def test_non_ascii_recipient_without_smtputf8_bounces(self, mx_factory: MXFactory) -> None:
        server = await mx_factory(smtputf8=False)
        conn = await connected(server)
        results = await send_message(conn, FROM, ["jörg@example.test", "a@example.test"], DATA)
        await conn.close()
        assert [(r.outcome, r.enhanced_status) for r in results] == [
            (Outcome.BOUNCED, "5.6.7"),
            (Outcome.DELIVERED, "2.0.0"),
        ]
