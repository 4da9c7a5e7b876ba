"""What storing attachments once costs at delivery (D70): ``fill`` (decode the request's base64, check its SHA-256,
encode the MIME lines, join) for one message with one attachment, against building the whole message as compose used
to, and the stored sizes before and after.

    .venv/bin/python bench/bench_attachment_fill.py [--size-mb 3] [--runs 20]

Wall-clock and this thread's CPU time are both reported (on the shared 2-core machine the wall-clock is mostly time
spent descheduled). Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from scaisend.compose.attachment_slots import fill, hollow
from scaisend.compose.mime import Draft, Mailbox, build_mime, decode_attachments
from scaisend.compose.recipients import Recipient


def draft(attachments: list[Mapping[str, Any]]) -> Draft:
    return Draft(
        message_id="msg_bench",
        hostname="mta.scaisend.test",
        date=datetime.now(UTC),
        sender=Mailbox("news@acme.example", "Acme"),
        to=[Recipient("ann@example.test", "Ann", "to")],
        cc=[],
        subject="Your invoice",
        html="<html><body><p>Hello Ann, your invoice is attached.</p></body></html>",
        text="Hello Ann, your invoice is attached.",
        attachments=decode_attachments(attachments),
    )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.thread_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=3)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    content = os.urandom(int(args.size_mb * 1024 * 1024))
    stored: list[Mapping[str, Any]] = [
        {"content": base64.b64encode(content).decode(), "filename": "invoice.pdf", "type": "application/pdf"}
    ]
    whole = draft(stored)
    hollowed = hollow(whole)
    assert fill(hollowed.mime, hollowed.slots_json, stored).count(base64.b64encode(content[:57])) == 1
    fill_wall, fill_cpu = timed(lambda: fill(hollowed.mime, hollowed.slots_json, stored), args.runs)
    build_wall, build_cpu = timed(lambda: build_mime(draft(stored)), args.runs)
    hollow_wall, hollow_cpu = timed(lambda: hollow(draft(stored)), args.runs)
    print(
        f"attachment {len(content)} bytes; stored per message: {len(hollowed.mime)} bytes (was {len(build_mime(whole))})"
    )
    print(f"fill (delivery, per attempt): p50 wall {fill_wall:.1f} ms, cpu {fill_cpu:.1f} ms")
    print(f"hollow (compose, per message): p50 wall {hollow_wall:.1f} ms, cpu {hollow_cpu:.1f} ms")
    print(f"build_mime with the content (compose before D70): p50 wall {build_wall:.1f} ms, cpu {build_cpu:.1f} ms")


if __name__ == "__main__":
    main()
