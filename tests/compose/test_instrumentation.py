"""Tracking instrumentation: pixel, click rewriting, unsubscribe footer and headers, UTM, footer, preheader."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from scaisend.compose.instrumentation import (
    ONE_CLICK,
    Body,
    Instrumented,
    TrackingLinks,
    instrument,
)
from scaisend.tracking.config import Footer, TrackingConfig
from scaisend.tracking.tokens import TokenKind, verify_token

SECRET = "test-secret-key-0123456789abcdef"
LINKS = TrackingLinks("https://send.example.test", SECRET, "msg_01abc", "ada@example.test", "unsubscribe@b.test")
HTML = (
    '<html><head></head><body class="x"><p>Read <a class="btn" href="https://example.com/post?id=7&amp;s=a">'
    'the post</a>, <a href="mailto:help@example.com">mail us</a> or <a href="#top">top</a>.</p></body></html>'
)
TEXT = "Read https://example.com/post?id=7. Thanks"


def run(
    html: str | None = HTML,
    text: str | None = TEXT,
    *,
    preheader: str | None = None,
    footer: Footer | None = None,
    asm_group_id: int | None = None,
    **config: Any,
) -> Instrumented:
    return instrument(
        Body(html, text),
        preheader=preheader,
        tracking=TrackingConfig(**config),
        footer=footer,
        links=LINKS,
        asm_group_id=asm_group_id,
    )


def hrefs(html: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def token_of(url: str, kind: str) -> str:
    return urlsplit(url).path.removeprefix(f"/t/{kind}/").removesuffix(".gif")


class TestClickTracking:
    def test_web_links_are_rewritten_and_verify(self) -> None:
        result = run(click_enabled=True)
        assert result.html is not None

        tracked, mailto, anchor = hrefs(result.html)
        assert tracked.startswith("https://send.example.test/t/c/")
        destination = parse_qs(urlsplit(tracked).query)["u"][0]
        assert destination == "https://example.com/post?id=7&s=a"
        token = verify_token(SECRET, token_of(tracked, "c"), kind=TokenKind.CLICK, url=destination)
        assert token is not None
        assert (token.message_id, token.recipient) == ("msg_01abc", "ada@example.test")
        assert (mailto, anchor) == ("mailto:help@example.com", "#top")
        assert 'class="btn"' in result.html
        assert result.text == TEXT

    def test_text_links_only_with_enable_text(self) -> None:
        result = run(click_enabled=True, click_enable_text=True)
        assert result.text is not None

        url = re.findall(r"https://\S+", result.text)[0].rstrip(".")
        assert url.startswith("https://send.example.test/t/c/")
        assert unquote(url.split("u=", 1)[1]) == "https://example.com/post?id=7"
        assert result.text.endswith(". Thanks")

    def test_clicktracking_off_attribute_keeps_the_link(self) -> None:
        result = run('<a clicktracking=off href="https://example.com/raw">x</a>', None, click_enabled=True)
        assert result.html == '<a clicktracking=off href="https://example.com/raw">x</a>'

    def test_disabled_leaves_links_alone(self) -> None:
        assert run(click_enabled=False).html == HTML


class TestOpenTracking:
    def test_pixel_goes_before_body_end_and_verifies(self) -> None:
        result = run(open_enabled=True)
        assert result.html is not None

        assert result.html.endswith("/></body></html>")
        src = re.findall(r'<img src="([^"]+)"', result.html)[0]
        assert src.startswith("https://send.example.test/t/o/")
        assert src.endswith(".gif")
        assert verify_token(SECRET, token_of(src, "o"), kind=TokenKind.OPEN) is not None

    def test_substitution_tag_places_the_pixel(self) -> None:
        result = run("<p>[pixel]</p><p>after</p>", None, open_enabled=True, open_substitution_tag="[pixel]")
        assert result.html is not None
        assert result.html.startswith("<p><img src=")
        assert result.html.endswith("<p>after</p>")

    def test_no_pixel_when_disabled_or_text_only(self) -> None:
        assert "/t/o/" not in (run(open_enabled=False).html or "")
        assert run(None, "text", open_enabled=True) == Instrumented(None, "text", {})


class TestSubscriptionTracking:
    def test_default_footer_and_one_click_headers(self) -> None:
        result = run(subscription_enabled=True, click_enabled=True)
        assert result.html is not None
        assert result.text is not None

        unsubscribe = LINKS.unsubscribe_url()
        assert f'<a href="{unsubscribe}">click here</a>.</p></body>' in result.html
        assert result.text.endswith(f"click here: {unsubscribe}.\n")
        assert verify_token(SECRET, token_of(unsubscribe, "u"), kind=TokenKind.UNSUBSCRIBE) is not None
        assert result.headers == {
            "List-Unsubscribe": f"<{LINKS.unsubscribe_mailto()}>, <{unsubscribe}>",
            "List-Unsubscribe-Post": ONE_CLICK,
        }
        assert LINKS.unsubscribe_mailto().startswith("mailto:unsubscribe@b.test?subject=unsubscribe-")

    def test_custom_html_and_text_mark_the_link(self) -> None:
        result = run(
            subscription_enabled=True, subscription_html="<div>Stop: <% here %></div>", subscription_text="Stop: <% %>"
        )
        url = LINKS.unsubscribe_url()
        assert f'<div>Stop: <a href="{url}">here</a></div>' in (result.html or "")
        assert (result.text or "").endswith(f"Stop: {url}\n")

    def test_substitution_tag_replaces_the_footer(self) -> None:
        result = run(
            "<p>bye [unsub]</p>", "bye [unsub]", subscription_enabled=True, subscription_substitution_tag="[unsub]"
        )
        url = LINKS.unsubscribe_url()
        assert result.html == f"<p>bye {url}</p>"
        assert result.text == f"bye {url}"

    def test_asm_tags_are_replaced_and_asm_sends_get_headers(self) -> None:
        result = run(
            '<a href="<%asm_group_unsubscribe_raw_url%>">leave</a>',
            "<%asm_preferences_raw_url%>",
            asm_group_id=7,
            click_enabled=True,
        )
        url = LINKS.unsubscribe_url()
        assert result.html == f'<a href="{url}">leave</a>'
        assert result.text == url
        assert result.headers["List-Unsubscribe-Post"] == ONE_CLICK

    def test_no_headers_without_subscription_tracking_or_group(self) -> None:
        assert run().headers == {}


class TestGanalyticsFooterPreheader:
    def test_utm_params_are_added_to_links_keeping_existing_ones(self) -> None:
        result = run(
            '<a href="https://example.com/a?utm_source=mine">a</a>',
            "see https://example.com/b",
            ganalytics_enabled=True,
            utm={"utm_source": "news", "utm_campaign": "spring"},
        )
        assert hrefs(result.html or "") == ["https://example.com/a?utm_source=mine&utm_campaign=spring"]
        assert result.text == "see https://example.com/b?utm_source=news&utm_campaign=spring"

    def test_utm_applies_inside_the_click_url(self) -> None:
        result = run(ganalytics_enabled=True, utm={"utm_medium": "email"}, click_enabled=True)
        tracked = hrefs(result.html or "")[0]
        assert parse_qs(urlsplit(tracked).query)["u"][0] == "https://example.com/post?id=7&s=a&utm_medium=email"

    def test_footer_is_added_to_both_parts(self) -> None:
        result = run("<body><p>x</p></body>", "x", footer=Footer(text="Acme Inc.", html="<p>Acme Inc.</p>"))
        assert result.html == "<body><p>x</p><p>Acme Inc.</p></body>"
        assert result.text == "x\n\nAcme Inc.\n"

    def test_preheader_is_hidden_first_in_the_body_and_escaped(self) -> None:
        result = run(preheader="Sale & more <soon>")
        assert result.html is not None
        assert result.html.startswith('<html><head></head><body class="x"><span style="display:none')
        assert ">Sale &amp; more &lt;soon&gt;</span><p>" in result.html
