"""The log context (D19, D56, D57): W3C ``traceparent`` parsing, the correlation fields a job carries, and the scope
that restores them; checked on the JSON lines themselves."""

from __future__ import annotations

import logging

import pytest

from scaisend.logs import (
    bind,
    correlated,
    current_fields,
    job_fields,
    trace_id_of,
    traceparent,
)
from tests.harness.json_logs import captured_json_logs, parse_lines

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", TRACE),
        (f"00-{TRACE}-00f067aa0ba902b7-00", TRACE),
        (f"  00-{TRACE}-00f067aa0ba902b7-01 ", TRACE),
        (f"cc-{TRACE}-00f067aa0ba902b7-01-what-the-future-holds", TRACE),  # a later version: its first four fields
        (f"00-{TRACE}-00f067aa0ba902b7-01-extra", None),  # version 00 has exactly four fields
        (f"ff-{TRACE}-00f067aa0ba902b7-01", None),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None),
        (f"00-{TRACE}-{'0' * 16}-01", None),
        (f"00-{TRACE.upper()}-00f067aa0ba902b7-01", None),  # lowercase hex only
        (f"00-{TRACE[:-1]}-00f067aa0ba902b7-01", None),
        ("", None),
        ("garbage", None),
    ],
)
def test_trace_id_of_a_traceparent(header: str, expected: str | None) -> None:
    assert trace_id_of(header) == expected


def test_outgoing_traceparent_continues_the_trace_with_a_new_span() -> None:
    first, second = traceparent(TRACE), traceparent(TRACE)
    assert trace_id_of(first) == trace_id_of(second) == TRACE
    assert first.startswith(f"00-{TRACE}-")
    assert first.endswith("-01")
    assert first != second


def test_job_fields_take_the_context_and_the_overrides() -> None:
    with correlated({"request_id": "r-1", "tenant_id": "tnt_1", "trace_id": TRACE}, fresh=True):
        assert job_fields(message_id="msg_1") == {
            "request_id": "r-1",
            "tenant_id": "tnt_1",
            "trace_id": TRACE,
            "message_id": "msg_1",
        }
        assert job_fields(request_id=None, tenant_id="tnt_2")["tenant_id"] == "tnt_2"
        assert job_fields(request_id=None)["request_id"] == "r-1"  # None leaves the context's value
        with pytest.raises(ValueError, match="unknown correlation fields"):
            job_fields(job_id="x")


def test_correlated_restores_every_field_also_those_bound_inside() -> None:
    with correlated({"request_id": "outer"}, fresh=True):
        with correlated({"message_id": "msg_1", "bogus": "x", "tenant_id": 42}):
            assert current_fields() == {"request_id": "outer", "message_id": "msg_1"}
            bind(tenant_id="tnt_1", request_id="inner", trace_id=None)
            assert current_fields() == {"request_id": "inner", "message_id": "msg_1", "tenant_id": "tnt_1"}
        assert current_fields() == {"request_id": "outer"}
        with correlated({"message_id": "msg_2"}, fresh=True):
            assert current_fields() == {"message_id": "msg_2"}
    assert current_fields() == {}


def test_lines_carry_the_fields_and_an_explicit_extra_wins() -> None:
    log = logging.getLogger("scaisend.test")
    with captured_json_logs("worker") as stream:
        with correlated(
            {"request_id": "r-9", "trace_id": TRACE, "tenant_id": "tnt_9", "message_id": "msg_9"}, fresh=True
        ):
            log.info("inside")
            log.info("explicit", extra={"message_id": "msg_other"})
        log.info("outside")
    inside, explicit, outside = parse_lines(stream.getvalue())
    assert {k: inside[k] for k in ("request_id", "trace_id", "tenant_id", "message_id", "service")} == {
        "request_id": "r-9",
        "trace_id": TRACE,
        "tenant_id": "tnt_9",
        "message_id": "msg_9",
        "service": "worker",
    }
    assert (explicit["message_id"], explicit["request_id"]) == ("msg_other", "r-9")
    assert not {"request_id", "trace_id", "tenant_id", "message_id"} & outside.keys()
