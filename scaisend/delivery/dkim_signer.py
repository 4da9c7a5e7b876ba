"""DKIM signing (D14, docs/domains.md; RFC 6376; docs/delivery.md "RFC 6376 DKIM" and "RFC 8058").

``rsa-sha256``, ``c=relaxed/relaxed``, ``d=`` the sender domain, ``s=`` its active selector. Signed header fields,
those present of: From, To, Cc, Reply-To, Subject, Date, Message-ID, MIME-Version, Content-Type, List-Unsubscribe,
List-Unsubscribe-Post (RFC 8058 requires both in ``h=`` for one-click), Feedback-ID and X-ScaiSend-Message-Id (so
complaint reports can be matched to a header we vouch for), plus From once more (oversigned, so no second From can
be added). No ``l=``.

dkimpy does the DKIM work (header parsing and relaxed canonicalisation, the header hash, folding) exactly as its own
``DKIM.sign`` does, with two changes for speed (D14; bench/bench_dkim.py, docs/benchmarks.md): the RSA operation is
OpenSSL's, through ``cryptography`` (dkimpy's pure-Python RSA costs about 8 ms a signature, OpenSSL about 0.3 ms), and
the relaxed *body* canonicalisation (:func:`relaxed_body`) only rewrites what needs rewriting (dkimpy's regexes
replace every single space by a space, half the cost of a signature on a 10 KB message); a test holds it equal to
dkimpy's. Loaded private keys are cached per (domain, selector, key fingerprint), so a rotated key is never confused
with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

import dkim  # type: ignore[import-untyped]
from cachetools import LRUCache
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.canonicalization import (  # type: ignore[import-untyped]
    CanonicalizationPolicy,
    correct_empty_body,
    strip_trailing_lines,
)

from scaisend import linear_re
from scaisend.metrics import DKIM_SIGNING_DURATION

SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"cc",
    b"reply-to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
    b"x-scaisend-message-id",
)
HEADER_NAME = b"DKIM-Signature"
_RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
# The body is tenant content: RE2 (linear). "[\t ]+(?=\r\n)" was quadratic in Python on a long run of spaces that
# does not end a line; RE2 has no look-ahead, so the line break is matched and put back.
_TRAILING_WSP = linear_re.compile(rb"[\t ]+\r\n")
_WSP_TO_COMPRESS = linear_re.compile(rb"[\t ]{2,}|\t")
_CRLF = b"\r\n"


class DkimSigningError(ValueError):
    """The message or key cannot be signed (malformed header block, not an RSA key)."""


def to_crlf(message: bytes) -> bytes:
    """Line endings as SMTP sends them (CRLF everywhere, ending in CRLF), so the signed bytes are the sent bytes."""
    bare = message.replace(_CRLF, b"")
    data = _LINE_ENDINGS.sub(_CRLF, message) if b"\r" in bare or b"\n" in bare else message
    return data if data.endswith(_CRLF) else data + _CRLF


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 §3.4.4 relaxed body canonicalisation of a CRLF body; equal to dkimpy's
    ``Relaxed.canonicalize_body`` but leaves single spaces alone instead of replacing each by itself."""
    if b" \r\n" in body or b"\t" in body:
        body = _TRAILING_WSP.sub(_CRLF, body)
    if b"  " in body or b"\t" in body:
        body = _WSP_TO_COMPRESS.sub(b" ", body)
    return correct_empty_body(strip_trailing_lines(body))


def _split(message: bytes) -> tuple[list[list[bytes]], bytes]:
    """(headers as dkimpy parses them, body): only the header block goes through dkimpy's line parser."""
    end = message.find(b"\r\n\r\n")
    head, body = (message, b"") if end < 0 else (message[: end + 4], message[end + 4 :])
    try:
        headers, _ = dkim.rfc822_parse(head)
    except dkim.MessageFormatError as exc:
        raise DkimSigningError(str(exc)) from exc
    return headers, body


def _fold(fields: list[tuple[bytes, bytes]], tail: bytes = b"") -> bytes:
    return dkim.fold(
        b"; ".join(b"=".join(f) for f in fields) + tail,
        namelen=len(HEADER_NAME),
        linesep=_CRLF,
    )


class DkimSigner:
    """Signs messages; holds the parsed private keys (at most ``max_keys``, least recently used dropped first)."""

    def __init__(self, max_keys: int = 1024) -> None:
        self._keys: LRUCache[tuple[str, str, str], rsa.RSAPrivateKey] = LRUCache(maxsize=max_keys)

    def _key(self, domain: str, selector: str, pem: bytes) -> rsa.RSAPrivateKey:
        cache_key = (domain, selector, hashlib.sha256(pem).hexdigest())
        key = self._keys.get(cache_key)
        if key is None:
            loaded = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise DkimSigningError(f"DKIM key for {selector}._domainkey.{domain} is not an RSA key")
            key = self._keys[cache_key] = loaded
        return key

    def signature_header(
        self, message: bytes, *, domain: str, selector: str, private_key_pem: bytes, timestamp: int
    ) -> bytes:
        """The ``DKIM-Signature: …`` header line (CRLF-terminated) for ``message`` (CRLF line endings)."""
        key = self._key(domain, selector, private_key_pem)
        headers, body = _split(message)
        present = {name.lower() for name, _ in headers}
        include = [name for name in SIGNED_HEADERS if name in present] + [b"from"]
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", b"relaxed/relaxed"),
            (b"d", domain.encode()),
            (b"i", b"@" + domain.encode()),
            (b"q", b"dns/txt"),
            (b"s", selector.encode()),
            (b"t", str(timestamp).encode()),
            (b"h", b" : ".join(include)),
            (b"bh", body_hash),
            (b"b", b"0" * 60),  # as dkimpy: pushes b= onto its own line so refolding leaves the other tags alone
        ]
        unsigned = dkim.RE_BTAG.sub(b"\\1", _fold(fields))
        hasher = hashlib.sha256()
        dkim.hash_headers(
            hasher, _RELAXED, _RELAXED.canonicalize_headers(headers), include, (HEADER_NAME, b" " + unsigned), None
        )
        signature = key.sign(hasher.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        fields[-1] = (b"b", base64.b64encode(signature))
        return HEADER_NAME + b": " + _fold(fields, _CRLF)

    def sign(self, message: bytes, *, domain: str, selector: str, private_key_pem: bytes, timestamp: int) -> bytes:
        """``message`` with CRLF line endings and a DKIM-Signature header on top; the time taken is observed in
        ``scaisend_smtp_dkim_signing_duration_seconds``."""
        started = time.perf_counter()
        data = to_crlf(message)
        header = self.signature_header(
            data, domain=domain, selector=selector, private_key_pem=private_key_pem, timestamp=timestamp
        )
        DKIM_SIGNING_DURATION.observe(time.perf_counter() - started)
        return header + data
