"""docs/webhooks.md stays true: its receiver snippet verifies a real signature, and the numbers it states are the
ones the code uses."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from scaisend.webhooks.batching import FLUSH_EVERY_SECONDS, MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from scaisend.webhooks.retry_policy import AUTO_DISABLE_AFTER, MAX_ATTEMPTS, RETRY_DELAYS
from scaisend.webhooks.signing import new_signing_secret, signature_header

DOC = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()


def snippet(marker: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
    return next(b for b in blocks if marker in b)


class TestDocs:
    def test_the_receiver_snippet_verifies_our_signature(self) -> None:
        namespace: dict[str, Any] = {}
        exec(snippet("def verify"), namespace)  # the documented recipe, as a receiver would paste it
        verify = namespace["verify"]
        secret, body = new_signing_secret(), b'{"event_id":"evt_1","event_type":"open"}'
        header = signature_header(secret, int(time.time()), body)
        assert verify(secret, header, body)
        assert not verify(secret, header, body + b" ")
        assert not verify(new_signing_secret(), header, body)
        assert not verify(secret, signature_header(secret, int(time.time()) - 301, body), body)

    def test_states_the_numbers_the_code_uses(self) -> None:
        schedule = ", ".join(f"+{d} s" for d in RETRY_DELAYS[:-1]) + f" and +{RETRY_DELAYS[-1]} s"
        assert schedule in DOC
        assert f"{MAX_ATTEMPTS} attempts per delivery" in DOC
        assert f"At **{AUTO_DISABLE_AFTER}** consecutive failures" in DOC
        assert f"at most **{MAX_BATCH_EVENTS} events** and **{MAX_BATCH_BYTES // 1024} KB**" in DOC
        assert f"(every {FLUSH_EVERY_SECONDS} seconds)" in DOC
