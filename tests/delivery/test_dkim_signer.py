"""D14 DKIM signing: dkimpy verifies what we sign (relaxed/relaxed, rsa-sha256, the header list), the fast body
canonicalisation equals dkimpy's, keys are cached per (domain, selector, key)."""

from __future__ import annotations

import re

import dkim  # type: ignore[import-untyped]
import pytest
from dkim.canonicalization import Relaxed  # type: ignore[import-untyped]
from dkim.util import parse_tag_value  # type: ignore[import-untyped]

from scaisend.delivery.dkim_signer import DkimSigner, DkimSigningError, relaxed_body, to_crlf
from scaisend.domains.dkim_keys import DkimKeyPair, generate_key_pair
from tests.factories.delivery import build_mime

NOW = 1_776_938_400


@pytest.fixture(scope="module")
def pair() -> DkimKeyPair:
    return generate_key_pair()


def dns_for(pair: DkimKeyPair, name: bytes = b"scaisend._domainkey.acme.example.") -> object:
    def dnsfunc(queried: bytes, timeout: int = 5) -> bytes:
        return f"v=DKIM1; k=rsa; p={pair.public_key_b64}".encode() if queried == name else b""

    return dnsfunc


def sign(pair: DkimKeyPair, message: bytes, signer: DkimSigner | None = None) -> bytes:
    return (signer or DkimSigner()).sign(
        message, domain="acme.example", selector="scaisend", private_key_pem=pair.private_key_pem, timestamp=NOW
    )


def tags(signed: bytes) -> dict[bytes, bytes]:
    header = signed.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    value = b""
    for line in header:
        if line.startswith(b"DKIM-Signature:"):
            value = line[len(b"DKIM-Signature:") :]
        elif value and line[:1] in (b" ", b"\t"):
            value += line
        elif value:
            break
    return {k: re.sub(rb"\s+", b"", v) for k, v in parse_tag_value(value).items()}


MESSAGE = build_mime(
    "msg_01test",
    "News <news@acme.example>",
    ["jane@example.org"],
    cc=["joe@example.org"],
    subject="Your invoice  is  ready",
    body="Dear Jane,\n\n  spaced   text \t\nend\n\n\n",
    list_unsubscribe="<https://scaisend.test/t/u/abc>",
)


class TestSign:
    def test_dkimpy_verifies_it(self, pair: DkimKeyPair) -> None:
        assert dkim.verify(sign(pair, MESSAGE), dnsfunc=dns_for(pair))

    def test_tags(self, pair: DkimKeyPair) -> None:
        t = tags(sign(pair, MESSAGE))
        assert (t[b"v"], t[b"a"], t[b"c"], t[b"d"], t[b"s"], t[b"t"]) == (
            b"1",
            b"rsa-sha256",
            b"relaxed/relaxed",
            b"acme.example",
            b"scaisend",
            str(NOW).encode(),
        )
        assert b"l" not in t

    def test_signs_the_spec_headers_list_unsubscribe_and_oversigns_from(self, pair: DkimKeyPair) -> None:
        signed_headers = tags(sign(pair, MESSAGE))[b"h"].split(b":")
        assert signed_headers == [
            b"from",
            b"to",
            b"cc",
            b"subject",
            b"date",
            b"message-id",
            b"mime-version",
            b"content-type",
            b"list-unsubscribe",
            b"list-unsubscribe-post",
            b"x-scaisend-message-id",
            b"from",
        ]

    def test_list_unsubscribe_only_when_present(self, pair: DkimKeyPair) -> None:
        plain = build_mime("msg_02", "news@acme.example", ["a@example.org"])
        assert b"list-unsubscribe" not in tags(sign(pair, plain))[b"h"]

    def test_tampering_breaks_it(self, pair: DkimKeyPair) -> None:
        signed = sign(pair, MESSAGE)
        assert not dkim.verify(signed.replace(b"Dear Jane", b"Dear Joan"), dnsfunc=dns_for(pair))
        assert not dkim.verify(signed.replace(b"Subject: Your invoice", b"Subject: Our invoice"), dnsfunc=dns_for(pair))

    def test_an_added_from_breaks_it(self, pair: DkimKeyPair) -> None:
        signed = sign(pair, MESSAGE)
        assert not dkim.verify(b"From: evil@attacker.example\r\n" + signed, dnsfunc=dns_for(pair))

    def test_lf_input_is_sent_and_signed_as_crlf(self, pair: DkimKeyPair) -> None:
        signed = sign(pair, MESSAGE.replace(b"\r\n", b"\n"))
        assert b"\n" not in signed.replace(b"\r\n", b"")
        assert dkim.verify(signed, dnsfunc=dns_for(pair))

    def test_message_without_body(self, pair: DkimKeyPair) -> None:
        assert dkim.verify(sign(pair, b"From: a@acme.example\r\nSubject: x\r\n"), dnsfunc=dns_for(pair))

    def test_malformed_header_block_refused(self, pair: DkimKeyPair) -> None:
        with pytest.raises(DkimSigningError):
            sign(pair, b"From: a@acme.example\r\nnot a header line\r\n\r\nbody\r\n")

    def test_non_rsa_key_refused(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with pytest.raises(DkimSigningError, match="not an RSA key"):
            DkimSigner().sign(MESSAGE, domain="acme.example", selector="s", private_key_pem=pem, timestamp=NOW)


class TestKeyCache:
    def test_rotated_key_under_the_same_selector_is_not_confused(self, pair: DkimKeyPair) -> None:
        signer = DkimSigner()
        sign(pair, MESSAGE, signer)
        other = generate_key_pair()
        signed = sign(other, MESSAGE, signer)
        assert dkim.verify(signed, dnsfunc=dns_for(other))
        assert not dkim.verify(signed, dnsfunc=dns_for(pair))

    def test_bounded(self, pair: DkimKeyPair) -> None:
        signer = DkimSigner(max_keys=1)
        for domain in ("a.example", "b.example", "a.example"):
            signer.sign(
                MESSAGE, domain=domain, selector="scaisend", private_key_pem=pair.private_key_pem, timestamp=NOW
            )
        assert len(signer._keys) == 1


class TestRelaxedBody:
    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"\r\n",
            b"\r\n\r\n\r\n",
            b"plain\r\n",
            b"trailing  \r\n",
            b"tab\there\r\n",
            b"a  b\t\t c \t \r\n",
            b"no final newline",
            b"  leading\r\n\r\n",
            b"x\r\n \r\n\t\r\n\r\n",
            b"mixed \t \t end\r\n\r\nmore\r\n",
        ],
    )
    def test_equals_dkimpy(self, body: bytes) -> None:
        assert relaxed_body(body) == Relaxed.canonicalize_body(body)


class TestToCrlf:
    @pytest.mark.parametrize(
        ("raw", "wire"),
        [
            (b"a\nb", b"a\r\nb\r\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n"),
            (b"a\rb\n", b"a\r\nb\r\n"),
            (b"a\r\n\nb", b"a\r\n\r\nb\r\n"),
        ],
    )
    def test_line_endings(self, raw: bytes, wire: bytes) -> None:
        assert to_crlf(raw) == wire
