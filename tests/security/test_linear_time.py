"""Issue 9, finding 2: every regular expression and parser that sees tenant or internet input runs in linear time
(docs/security.md, "Linear-time input handling", lists them).

Two kinds of test:

- the known worst cases at 1 MB, each in a child process killed after a generous bound, so a regression fails
  instead of hanging the suite (on the code before the fix each of these ran for minutes to hours: the cubic
  ``<%\\s*(.*?)\\s*%>`` took 17 s on 4 KB);
- a property test: hypothesis builds adversarial inputs (a fragment of delimiters, openers and whitespace repeated to
  tens of kilobytes) for every function of the inventory; each example must finish within a deadline that linear code
  meets a hundred times over and quadratic code misses by far, and fail, if at all, only with the function's
  documented error.
"""

from __future__ import annotations

import contextlib
import email
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaisend import ids, logs
from scaisend.api import middleware
from scaisend.compose import instrumentation, links
from scaisend.delivery import bounce_classifier, dkim_signer, envelope, retry_policy
from scaisend.domains import service as domains_service
from scaisend.errors import BadRequestError
from scaisend.inbound import arf, dsn, matcher, processing, report_fields
from scaisend.mail import validation
from scaisend.stats import service as stats_service
from scaisend.suppressions import csv_import
from scaisend.templates import date_format, html_to_text, legacy, tokenizer
from scaisend.templates.handlebars import HandlebarsSyntaxError, parse
from scaisend.tracking.config import TrackingConfig

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
BOUND_SECONDS = 90  # per group of cases: each group takes a few seconds; before the fix single cases took minutes

# --- the known worst cases at 1 MB ----------------------------------------------------------------------------------
# Grouped by the modules they import (a child process per group: importing is most of a group's time).
WORST_CASES: dict[str, dict[str, str]] = {
    "compose": {
        "tracking <% link mark, spaces": """
            from scaisend.compose.instrumentation import _link_html, _link_text
            _link_text("https://u.test", "<%" + " " * MB); _link_html("https://u.test", "<%" + " " * MB)
        """,
        "tracking <% link mark, openers": """
            from scaisend.compose.instrumentation import _link_text
            _link_text("https://u.test", "<%" * (MB // 2))
        """,
        "click tracking, unclosed <a": """
            from scaisend.compose.links import rewrite_html_links
            rewrite_html_links("<a " * (MB // 3), lambda url: url + "?t")
        """,
        "body insertion, unclosed <body": """
            from scaisend.compose.links import insert_after_body_start
            insert_after_body_start("<body " * (MB // 6), "<span>")
        """,
    },
    "templates": {
        "handlebars comments": """
            from scaisend.templates.handlebars import parse
            parse("{{!-- c --}}" * (MB // 12))
        """,
        "handlebars raw tags": """
            from scaisend.templates.handlebars import parse
            parse("{{{x}}}" * (MB // 7))
        """,
        "handlebars unclosed [": """
            from scaisend.templates.handlebars import HandlebarsSyntaxError, parse
            try:
                parse("{{x " + "[" * MB + "}}")
            except HandlebarsSyntaxError:
                pass
        """,
        "html_to_text unclosed quotes": """
            from scaisend.templates.html_to_text import html_to_text
            html_to_text("<a x='" * (MB // 6))
        """,
        "html_to_text unclosed comments": """
            from scaisend.templates.html_to_text import html_to_text
            html_to_text("<!--" * (MB // 4))
        """,
        "html_to_text unclosed tags": """
            from scaisend.templates.html_to_text import html_to_text
            html_to_text("<a" * (MB // 2))
        """,
        "html_to_text nested links": """
            from scaisend.templates.html_to_text import html_to_text
            html_to_text('<a href="https://x.test">x' * (MB // 26))
        """,
        "formatDate unclosed [": """
            from scaisend.templates.date_format import format_date
            format_date(0, "[" * MB)
        """,
    },
    "delivery": {
        "MX reply classification": """
            from scaisend.delivery.bounce_classifier import reply_result
            for code in (550, 450):
                reply_result("r@x.test", code, "exceeded " * (MB // 9), mx_host="mx.test", tls=False)
        """,
        "DKIM body canonicalisation": """
            from scaisend.delivery.dkim_signer import relaxed_body
            relaxed_body(b"\\t" + b" " * MB + b"x\\r\\n")
        """,
    },
}


def _child_program(cases: dict[str, str]) -> str:
    lines = [f"MB = {MB}"]
    for name, code in cases.items():
        lines += [f"print({name!r}, flush=True)", textwrap.dedent(code)]
    return "\n".join(lines)


@pytest.mark.timeout(BOUND_SECONDS * 2)
@pytest.mark.parametrize("group", list(WORST_CASES))
def test_known_worst_cases_at_one_megabyte_finish(group: str) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _child_program(WORST_CASES[group])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        running = output.strip().splitlines()[-1:] or ["(importing)"]
        pytest.fail(f"{group}: {running[0]} still running after {BOUND_SECONDS} s on 1 MB of input")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:-1] == list(WORST_CASES[group])  # every case ran


# --- every function of the inventory, on adversarial input ---------------------------------------------------------
# Pieces that open, close or repeat something in one of the grammars (HTML, Handlebars, tracking marks, moment
# formats, MX replies, report fields, MIME), plus whitespace of several kinds.
PIECES = (
    *("<", ">", "</", "<a", "<a ", "<area", "<body", "</body", "<!--", "-->", "<!", "<?", "<script>", "</script"),
    *("href=", "href =", "clicktracking=off", "'", '"', "=", "&", "&#", "&amp", ";", "/", "\\"),
    *("<%", "%>", "{{", "}}", "{{{", "}}}", "{{!--", "--}}", "{{#if a}}", "{{else if b}}", "{{/if}}", "~"),
    *("[", "]", "(", ")", "../", "..", ".", "@", "as |", "1", "-1.5"),
    *("YYYY", "Do", "a", "http://", "https://x.test/", "exceeded ", "in ", "for 5", "minutes", "5.1.1", "550 "),
    *("rfc822;", "Final-Recipient:", "Status:", "\n\n", "\n ", "bounces+", "@"),
    *(" ", "  ", "\t", "\r\n", "\n", "\r", "\xa0", "\u3000", "x", "é", "\ud800"),
)
SIZE = 40_000  # characters of each generated input


@st.composite
def adversarial(draw: st.DrawFn) -> str:
    fragment = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6)))
    tail = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=3)))
    return (fragment * (SIZE // len(fragment) + 1))[:SIZE] + tail


def _tracking(text: str) -> None:
    tracking = TrackingConfig(
        subscription_enabled=True,
        subscription_html=text,
        subscription_text=text,
        click_enabled=True,
        click_enable_text=True,
        open_enabled=True,
    )
    tracking_links = instrumentation.TrackingLinks("https://t.test", "k" * 32, "msg_1", "r@x.test", "u@b.test")
    instrumentation.instrument(
        instrumentation.Body(text, text),
        preheader=text,
        tracking=tracking,
        footer=None,
        links=tracking_links,
        asm_group_id=None,
    )


def _handlebars(text: str) -> None:
    with contextlib.suppress(HandlebarsSyntaxError):
        parse(text)


def _tokenize(text: str) -> None:
    with contextlib.suppress(HandlebarsSyntaxError):
        tokenizer.tokenize(text)


def _report(text: str) -> None:
    for block in report_fields._from_text(text):
        record = dsn.DsnRecipient(
            recipient=report_fields.strip_type(block.get("final-recipient")),
            action="failed",
            status=block.get("status", ""),
            diagnostic=report_fields.strip_type(block.get("diagnostic-code")),
            remote_mta="",
        )
        assert record.reply_code in range(200, 600)
    dsn._STATUS_RE.search(text)


def _reply(text: str) -> None:
    for code in (250, 450, 550):
        bounce_classifier.reply_result("r@x.test", code, text, mx_host=None, tls=False)
    retry_policy.named_wait(text)


def _csv(text: str) -> None:
    with contextlib.suppress(BadRequestError):
        csv_import.parse_csv(text)


def _domain(text: str) -> None:
    with contextlib.suppress(BadRequestError):
        domains_service.normalize_domain(text)


def _arf(text: str) -> None:
    line = text.replace(chr(13), " ").replace(chr(10), " ")
    original = email.message_from_string(f"Return-Path: {line}\nList-Unsubscribe: {line}\nTo: {line}\n\nx\n")
    report = arf.ArfReport("abuse", "", "", original, "", original_mail_from=line)
    report.return_paths  # noqa: B018
    report.unsubscribe_tokens  # noqa: B018


def _dkim(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    dkim_signer.relaxed_body(dkim_signer.to_crlf(raw))


INVENTORY: dict[str, Callable[[str], object]] = {
    "compose.instrumentation.instrument (all tracking)": _tracking,
    "compose.links.rewrite_html_links": lambda text: links.rewrite_html_links(text, lambda url: url + "#t"),
    "compose.links.rewrite_text_links": lambda text: links.rewrite_text_links(text, lambda url: url + "#t"),
    "compose.links.insert_before/after_body": lambda text: links.insert_before_body_end(
        links.insert_after_body_start(text, "<i>"), "<b>"
    ),
    "compose.links.with_query_params": lambda text: links.with_query_params(text, {"utm_source": "x"}),
    "templates.tokenizer.tokenize": _tokenize,
    "templates.handlebars.parse": _handlebars,
    "templates.html_to_text.convert": html_to_text.convert,
    "templates.legacy.substitute": lambda text: legacy.substitute(text, {"-name-": "x", "%a%": "y", "{{b}}": "z"}),
    "templates.date_format.format_date": lambda text: date_format.format_date(0, text, text),
    "delivery.bounce_classifier + retry_policy.named_wait": _reply,
    "delivery.dkim_signer.relaxed_body": _dkim,
    "delivery.envelope.parse_return_path": lambda text: envelope.parse_return_path(text, "b.test"),
    "inbound.report_fields + dsn": _report,
    "inbound.arf.return_paths + unsubscribe_tokens": _arf,
    "inbound.processing.read_report (plain-bounce detectors)": lambda text: [
        processing.read_report(start + text.encode("utf-8", "surrogatepass"))
        for start in (
            b"Subject: failure notice\r\n\r\nThe address to which the message has not yet been delivered is\r\n",
            b"Subject: x\r\n\r\nA message that you sent could not be delivered\r\n",
            b"Subject: x\r\n\r\nThe following recipient(s) could not be reached:\r\n",
        )
    ],
    "inbound.matcher.return_path_of + candidate_ids": lambda text: (
        matcher.return_path_of(text, "b.test"),
        matcher.candidate_ids([text], email.message_from_string(f"X-ScaiSend-Message-Id: {text}\n\n"), "b.test"),
    ),
    "suppressions.csv_import.parse_csv": _csv,
    "domains.service.normalize_domain": _domain,
    "request id, traceparent, API key and date patterns": lambda text: (
        middleware._REQUEST_ID_RE.match(text),
        logs.trace_id_of(text),
        logs.trace_id_of(f"00-{'a' * 32}-{'b' * 16}-01-{text}"),
        ids.API_KEY_RE.match(text),
        stats_service._DATE_RE.match(text),
    ),
    "mail.validation header and address rules": lambda text: (
        validation.address_problem(text[: validation.MAX_EMAIL_LENGTH + 1]),
        validation._HEADER_NAME.match(text),
        validation._CRLF.search(text),
    ),
}


@pytest.mark.parametrize("name", list(INVENTORY))
@settings(
    max_examples=8,
    deadline=10_000,  # milliseconds for one example of 40 KB; linear code needs well under 100 here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(text=adversarial())
def test_inventory_function_is_linear_on_adversarial_input(name: str, text: str) -> None:
    INVENTORY[name](text)
