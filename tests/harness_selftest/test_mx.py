"""Self-tests of ScriptableMX, driven by the real aiosmtplib client (and smtplib for the blocking case)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from email.message import EmailMessage

import aiosmtplib
import pytest

from tests.harness.fixtures_net import MXFactory
from tests.harness.mx import AtData, Drop, ScriptableMX, Slow

SENDER = "bounces@sender.test"


def make_message(to: str, subject: str = "hello") -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message.set_content("body line\n.leading dot line\n")
    return message


def client(mx: ScriptableMX, *, timeout: float = 5, **kwargs: object) -> aiosmtplib.SMTP:
    options: dict[str, object] = {"start_tls": False, "local_hostname": "client.sender.test"} | kwargs
    return aiosmtplib.SMTP(hostname=mx.host, port=mx.port, timeout=timeout, **options)  # type: ignore[arg-type]


async def rcpt_reply(mx: ScriptableMX, address: str) -> tuple[int, str]:
    """Open a session, send MAIL and one RCPT and return the RCPT reply."""
    async with client(mx) as smtp:
        await smtp.mail(SENDER)
        try:
            response = await smtp.rcpt(address)
        except aiosmtplib.SMTPRecipientRefused as exc:
            return exc.code, exc.message
        return response.code, response.message


async def test_unscripted_recipient_is_accepted_and_captured(mx: ScriptableMX) -> None:
    async with client(mx) as smtp:
        errors, reply = await smtp.send_message(make_message("Someone@Example.test"))
    assert errors == {}
    assert reply.startswith("2.0.0")
    (received,) = await mx.wait_for(1, timeout=2)
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ["Someone@Example.test"]
    assert received.message["Subject"] == "hello"
    assert received.message.get_content() == "body line\n.leading dot line\n"
    assert b"\r\n.leading dot line" in received.data
    assert received.peer[0] == "127.0.0.1"
    assert received.session.ehlo == "client.sender.test"
    assert received.session.tls is False
    assert mx.mailbox("someone@example.TEST") == [received]
    assert mx.mailbox("other@example.test") == []
    assert mx.connections == 1


@pytest.mark.parametrize(
    ("reply", "code", "text"),
    [
        ("450 4.2.1 Mailbox busy", 450, "4.2.1 Mailbox busy"),
        ("550 5.1.1 User unknown", 550, "5.1.1 User unknown"),
        ("552 5.2.2 Mailbox full", 552, "5.2.2 Mailbox full"),
        ("554 5.7.1 Message rejected due to content", 554, "5.7.1 Message rejected due to content"),
    ],
)
async def test_scripted_rcpt_errors(mx: ScriptableMX, reply: str, code: int, text: str) -> None:
    mx.script("rcpt@example.test", reply)
    assert await rcpt_reply(mx, "RCPT@example.test") == (code, text)
    assert mx.attempts("rcpt@example.test") == 1
    async with client(mx) as smtp:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await smtp.send_message(make_message("rcpt@example.test"))
    assert refused.value.recipients[0].code == code
    assert mx.messages == []


async def test_greylisting_421_then_250_on_second_attempt(mx: ScriptableMX) -> None:
    mx.script("grey@example.test", "421 4.7.0 Try again later", "250 2.1.5 OK")
    async with client(mx) as smtp:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await smtp.send_message(make_message("grey@example.test"))
    assert refused.value.recipients[0].code == 421

    async with client(mx) as smtp:
        errors, _ = await smtp.send_message(make_message("grey@example.test"))
    assert errors == {}
    await mx.wait_for(1, timeout=2)
    assert mx.attempts("grey@example.test") == 2
    assert mx.connections == 2


async def test_server_closes_the_channel_after_421(mx: ScriptableMX) -> None:
    mx.script("grey@example.test", "421 4.7.0 Try again later")
    reader, writer = await asyncio.open_connection(mx.host, mx.port)
    try:
        writer.write(b"EHLO raw.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<grey@example.test>\r\n")
        transcript = await asyncio.wait_for(reader.read(), timeout=2)  # returns only at EOF
    finally:
        writer.close()
        await writer.wait_closed()
    assert transcript.endswith(b"421 4.7.0 Try again later\r\n")


async def test_last_behaviour_repeats(mx: ScriptableMX) -> None:
    mx.script("x@example.test", "450 4.2.1 Mailbox busy", "550 5.1.1 User unknown")
    codes = [(await rcpt_reply(mx, "x@example.test"))[0] for _ in range(3)]
    assert codes == [450, 550, 550]


async def test_partial_acceptance_captures_only_accepted_recipients(mx: ScriptableMX) -> None:
    mx.script("gone@example.test", "550 5.1.1 User unknown")
    message = make_message("ok@example.test, gone@example.test")
    async with client(mx) as smtp:
        errors, _ = await smtp.send_message(message)
    assert errors["gone@example.test"].code == 550
    (received,) = await mx.wait_for(1, timeout=2)
    assert received.rcpt_tos == ["ok@example.test"]


async def test_reject_at_data(mx: ScriptableMX) -> None:
    mx.script("content@example.test", AtData("554 5.7.1 Message rejected due to content"))
    async with client(mx) as smtp:
        await smtp.mail(SENDER)
        assert (await smtp.rcpt("content@example.test")).code == 250
        with pytest.raises(aiosmtplib.SMTPDataError) as rejected:
            await smtp.data(make_message("content@example.test").as_bytes())
    assert (rejected.value.code, rejected.value.message) == (554, "5.7.1 Message rejected due to content")
    assert mx.messages == []


async def test_drop_at_rcpt_disconnects(mx: ScriptableMX) -> None:
    mx.script("drop@example.test", Drop())
    async with client(mx) as smtp:
        await smtp.mail(SENDER)
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await smtp.rcpt("drop@example.test")
    assert mx.messages == []


async def test_drop_at_data_disconnects_without_capture(mx: ScriptableMX) -> None:
    mx.script("drop@example.test", AtData(Drop()))
    async with client(mx) as smtp:
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await smtp.send_message(make_message("drop@example.test"))
    await mx.wait_until(lambda: mx.sessions[0].closed, timeout=2)
    assert mx.messages == []


async def test_slow_reply_is_delayed(mx: ScriptableMX) -> None:
    mx.script("slow@example.test", Slow(0.3, then="451 4.3.0 Finally"))
    started = time.monotonic()
    assert await rcpt_reply(mx, "slow@example.test") == (451, "4.3.0 Finally")
    assert time.monotonic() - started >= 0.3


async def test_slow_beyond_client_timeout(mx: ScriptableMX) -> None:
    mx.script("slow@example.test", Slow(5))
    async with client(mx, timeout=0.3) as smtp:
        await smtp.mail(SENDER)
        with pytest.raises(aiosmtplib.SMTPTimeoutError):
            await smtp.rcpt("slow@example.test")
    await mx.wait_until(lambda: mx.sessions[0].closed, timeout=2)


async def test_connection_reuse_and_concurrency_are_counted(mx: ScriptableMX) -> None:
    async with client(mx) as smtp:
        for i in range(3):
            await smtp.send_message(make_message(f"r{i}@example.test"))
    assert mx.connections == 1
    assert {m.session.index for m in await mx.wait_for(3, timeout=2)} == {0}

    mx.script("slow@example.test", Slow(0.3))

    async def one() -> None:
        async with client(mx) as smtp:
            await smtp.send_message(make_message("slow@example.test"))

    await asyncio.gather(one(), one())
    assert mx.connections == 3
    assert mx.peak_sessions == 2


async def test_wait_for_times_out(mx: ScriptableMX) -> None:
    with pytest.raises(TimeoutError, match="0 of 1 messages"):
        await mx.wait_for(1, timeout=0.2)


async def test_keeps_serving_while_test_loop_is_blocked(mx: ScriptableMX) -> None:
    mx.script("busy@example.test", "450 4.2.1 Mailbox busy")
    with smtplib.SMTP(mx.host, mx.port, local_hostname="sync.sender.test", timeout=5) as smtp:  # blocks this loop
        refused = smtp.sendmail(SENDER, ["ok@example.test", "busy@example.test"], b"Subject: sync\r\n\r\nhi\r\n")
    assert refused == {"busy@example.test": (450, b"4.2.1 Mailbox busy")}
    (received,) = await mx.wait_for(1, timeout=2)
    assert received.session.ehlo == "sync.sender.test"


async def test_starttls_with_verified_self_signed_cert(mx_factory: MXFactory) -> None:
    mx = await mx_factory(tls=True)
    assert mx.cert_path is not None
    context = ssl.create_default_context(cafile=str(mx.cert_path))
    async with client(mx, start_tls=True, tls_context=context) as smtp:
        errors, _ = await smtp.send_message(make_message("tls@example.test"))
    assert errors == {}
    (received,) = await mx.wait_for(1, timeout=2)
    assert received.session.starttls_attempted
    assert received.session.tls is True
    assert received.session.ehlo == "client.sender.test"


async def test_starttls_is_only_offered_when_enabled(mx: ScriptableMX) -> None:
    async with client(mx) as smtp:
        await smtp.ehlo()
        assert not smtp.supports_extension("starttls")


async def test_broken_tls_fails_handshake_then_plain_fallback_works(mx_factory: MXFactory) -> None:
    mx = await mx_factory(broken_tls=True)
    smtp = client(mx, start_tls=True, validate_certs=False)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):  # 220 to STARTTLS, then the socket closes
        await smtp.connect()
    smtp.close()
    assert mx.sessions[0].starttls_attempted
    assert mx.sessions[0].tls is False
    assert mx.messages == []

    async with client(mx) as plain:  # opportunistic TLS: retry in clear text
        await plain.ehlo()
        assert plain.supports_extension("starttls")
        await plain.send_message(make_message("fallback@example.test"))
    (received,) = await mx.wait_for(1, timeout=2)
    assert received.session.index == 1
    assert received.session.tls is False
