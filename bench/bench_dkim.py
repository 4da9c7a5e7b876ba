"""DKIM signing cost per message (D14): p50/p99 of ``DkimSigner.sign`` on a realistic 10 KB message, compared with
dkimpy's own ``dkim.sign`` (pure-Python RSA).

    .venv/bin/python bench/bench_dkim.py [--signatures 2000] [--size 10000] [--dkimpy 50]

The message is a multipart/alternative newsletter (text + HTML table, tracking pixel, List-Unsubscribe headers) of
about ``--size`` bytes with CRLF line endings, as the compose stage stores it. The key is a fresh RSA-2048 key; the
signer's key cache is warm (as in production, where one key signs many messages). The signature is checked with
``dkim.verify`` before timing. Wall-clock and this thread's CPU time are both reported: on a shared 2-core machine the
wall-clock tail is mostly time spent descheduled, the CPU-time tail is what signing costs. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from email.message import EmailMessage
from email.utils import formatdate

import dkim  # type: ignore[import-untyped]

from scaisend.delivery.dkim_signer import DkimSigner
from scaisend.domains.dkim_keys import generate_key_pair

DOMAIN = "acme.example"
SELECTOR = "scaisend"
PARAGRAPH = (
    "Dear Jane, thank you for your business. Your invoice for March 2026 is below; the amount due is "
    "EUR 1,234.56, payable within 30 days. Questions? Reply to this message."
)
ROW = (
    '<tr><td style="padding:4px 8px;font-family:Arial,sans-serif">Line item</td><td align="right">EUR 12.34</td></tr>\n'
)


def realistic_message(size: int) -> bytes:
    mime = EmailMessage()
    mime["From"] = "Acme Billing <billing@acme.example>"
    mime["To"] = "Jane Customer <jane.customer@example.org>"
    mime["Subject"] = "Your invoice INV-2026-0042 is ready"
    mime["Date"] = formatdate(1776938400, usegmt=True)
    mime["Message-ID"] = "<msg_01jz5m3v1k8q9r2s3t4v5w6x7y@acme.example>"
    mime["X-ScaiSend-Message-Id"] = "msg_01jz5m3v1k8q9r2s3t4v5w6x7y"
    mime["List-Unsubscribe"] = "<https://scaisend.example/t/u/abcdef0123456789>, <mailto:unsub@acme.example>"
    mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content("\n".join([PARAGRAPH] * max(1, size // 4 // len(PARAGRAPH))))
    html = (
        f"<html><body><p>{PARAGRAPH}</p><table>"
        + "{rows}</table>"
        + '<img src="https://scaisend.example/t/o/abc.gif" width="1" height="1"></body></html>'
    )
    bare = len(mime.as_bytes()) + len(html.format(rows=""))
    mime.add_alternative(html.format(rows=ROW * max(0, (size - bare) // len(ROW))), subtype="html")
    return mime.as_bytes(policy=mime.policy.clone(linesep="\r\n"))


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=2000)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--dkimpy", type=int, default=50, help="signatures with dkimpy's pure-Python RSA (0: skip)")
    args = parser.parse_args()

    pair = generate_key_pair()
    message = realistic_message(args.size)
    record = f"v=DKIM1; k=rsa; p={pair.public_key_b64}".encode()
    signer = DkimSigner()

    def sign() -> bytes:
        return signer.sign(
            message, domain=DOMAIN, selector=SELECTOR, private_key_pem=pair.private_key_pem, timestamp=int(time.time())
        )

    assert dkim.verify(sign(), dnsfunc=lambda name, timeout=5: record), "signature does not verify"
    for _ in range(50):  # warm-up
        sign()
    wall, cpu = [], []
    for _ in range(args.signatures):
        start, start_cpu = time.perf_counter(), time.thread_time()
        sign()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    print(f"message {len(message)} bytes, {args.signatures} signatures with DkimSigner (OpenSSL RSA):")
    for name, values in (("wall", sorted(wall)), ("cpu ", sorted(cpu))):
        print(
            f"  {name} p50 {percentile(values, 0.50) * 1e3:.3f} ms  p99 {percentile(values, 0.99) * 1e3:.3f} ms  "
            f"mean {statistics.fmean(values) * 1e3:.3f} ms"
        )

    if args.dkimpy:
        slow = []
        for _ in range(args.dkimpy):
            start = time.perf_counter()
            dkim.sign(
                message, SELECTOR.encode(), DOMAIN.encode(), pair.private_key_pem, canonicalize=(b"relaxed", b"relaxed")
            )
            slow.append(time.perf_counter() - start)
        slow.sort()
        print(
            f"  dkimpy dkim.sign (pure-Python RSA), {args.dkimpy} signatures: "
            f"p50 {percentile(slow, 0.50) * 1e3:.2f} ms  p99 {percentile(slow, 0.99) * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
