"""Tracking instrumentation of a rendered message (docs/compose.md; compose stage of docs/architecture.md, D27).

Applied in this order to the rendered HTML and text:

1. preheader: a hidden ``<span>`` (text, HTML-escaped) just after ``<body>`` (HTML only);
2. ``mail_settings.footer``: HTML before ``</body>``, text appended;
3. unsubscribe: SendGrid's ASM tags (``<%asm_group_unsubscribe_raw_url%>``, ``<%asm_global_unsubscribe_raw_url%>``,
   ``<%asm_preferences_raw_url%>``) become the unsubscribe URL; with subscription tracking on, its
   ``substitution_tag`` is replaced by that URL, or else its ``html``/``text`` (SendGrid's wording by default; ``<% %>``
   or ``<% label %>`` marks the link) is appended like a footer;
4. ganalytics: ``utm_*`` parameters added to every web link (keeping ones the link already has);
5. click tracking: HTML links (and text links with ``enable_text``) become ``/t/c/{token}?u=<url>``;
6. open tracking: the pixel ``/t/o/{token}.gif`` replaces ``open_tracking.substitution_tag`` when the body has it,
   else goes just before ``</body>``.

Headers: ``List-Unsubscribe: <mailto:…>, <https://…/t/u/{token}>`` and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058) when subscription tracking is on or the send has an ASM group. The mailto
address is ``unsubscribe@<BOUNCE_DOMAIN>`` with the token in the subject. Tokens come from
:mod:`scaisend.tracking.tokens` and name the message's primary recipient.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

from scaisend import linear_re
from scaisend.compose.links import (
    UrlRewriter,
    insert_after_body_start,
    insert_before_body_end,
    rewrite_html_links,
    rewrite_text_links,
    with_query_params,
)
from scaisend.linear_re import SPACE
from scaisend.settings import Settings
from scaisend.tracking.config import Footer, TrackingConfig
from scaisend.tracking.tokens import TokenKind, sign_token

DEFAULT_SUBSCRIPTION_TEXT = "If you would like to unsubscribe and stop receiving these emails click here: <% %>."
DEFAULT_SUBSCRIPTION_HTML = "<p>If you would like to unsubscribe and stop receiving these emails <% click here %>.</p>"
ASM_TAGS: tuple[str, ...] = (
    "<%asm_group_unsubscribe_raw_url%>",
    "<%asm_global_unsubscribe_raw_url%>",
    "<%asm_preferences_raw_url%>",
)
ONE_CLICK = "List-Unsubscribe=One-Click"
PIXEL_STYLE = "display:block;height:1px;width:1px;border:0;margin:0;padding:0;"
PREHEADER_STYLE = (
    "display:none !important;visibility:hidden;mso-hide:all;font-size:1px;line-height:1px;"
    "max-height:0;max-width:0;opacity:0;overflow:hidden;"
)
# RE2: with Python's backtracking this was cubic on "<%" + " " * n (issue 9); a failed search can only fail at the end
# of the snippet, so sub stays linear.
_LINK_MARK = linear_re.compile(rf"<%{SPACE}*(.*?){SPACE}*%>", dotall=True)


@dataclass(frozen=True)
class TrackingLinks:
    """The tracking URLs of one message and recipient."""

    base_url: str
    secret_key: str
    message_id: str
    recipient: str
    unsubscribe_mailbox: str

    @classmethod
    def for_message(cls, settings: Settings, message_id: str, recipient: str) -> TrackingLinks:
        return cls(
            settings.PUBLIC_BASE_URL.rstrip("/"),
            settings.SECRET_KEY,
            message_id,
            recipient,
            f"unsubscribe@{settings.BOUNCE_DOMAIN}",
        )

    def _token(self, kind: TokenKind, url: str | None = None) -> str:
        return sign_token(self.secret_key, kind=kind, message_id=self.message_id, recipient=self.recipient, url=url)

    def open_pixel_url(self) -> str:
        return f"{self.base_url}/t/o/{self._token(TokenKind.OPEN)}.gif"

    def click_url(self, url: str) -> str:
        return f"{self.base_url}/t/c/{self._token(TokenKind.CLICK, url)}?u={quote(url, safe='')}"

    def unsubscribe_url(self) -> str:
        return f"{self.base_url}/t/u/{self._token(TokenKind.UNSUBSCRIBE)}"

    def unsubscribe_mailto(self) -> str:
        return f"mailto:{self.unsubscribe_mailbox}?subject=unsubscribe-{self._token(TokenKind.UNSUBSCRIBE)}"

    def is_tracking_url(self, url: str) -> bool:
        return url.startswith(f"{self.base_url}/t/")


@dataclass(frozen=True)
class Body:
    html: str | None
    text: str | None


@dataclass(frozen=True)
class Instrumented:
    html: str | None
    text: str | None
    headers: dict[str, str]


def _append_text(text: str | None, addition: str | None) -> str | None:
    if text is None or not addition:
        return text
    return f"{text.rstrip()}\n\n{addition}\n"


def _append_html(body: str | None, addition: str | None) -> str | None:
    return body if body is None or not addition else insert_before_body_end(body, addition)


def add_preheader(body: Body, preheader: str | None) -> Body:
    if body.html is None or not preheader:
        return body
    span = f'<span style="{PREHEADER_STYLE}">{html.escape(preheader)}</span>'
    return Body(insert_after_body_start(body.html, span), body.text)


def add_footer(body: Body, footer: Footer | None) -> Body:
    if footer is None:
        return body
    return Body(_append_html(body.html, footer.html), _append_text(body.text, footer.text))


def _link_html(url: str, snippet: str) -> str:
    escaped = html.escape(url, quote=True)
    return _LINK_MARK.sub(lambda m: f'<a href="{escaped}">{m.group(1) or escaped}</a>', snippet)


def _link_text(url: str, snippet: str) -> str:
    return _LINK_MARK.sub(lambda m: f"{m.group(1)} ( {url} )" if m.group(1) else url, snippet)


def _replace(body: Body, tag: str, url: str) -> Body:
    return Body(
        None if body.html is None else body.html.replace(tag, html.escape(url, quote=True)),
        None if body.text is None else body.text.replace(tag, url),
    )


def add_unsubscribe(body: Body, tracking: TrackingConfig, links: TrackingLinks) -> Body:
    url = links.unsubscribe_url()
    for tag in ASM_TAGS:
        body = _replace(body, tag, url)
    if not tracking.subscription_enabled:
        return body
    if tracking.subscription_substitution_tag:
        return _replace(body, tracking.subscription_substitution_tag, url)
    return Body(
        _append_html(body.html, _link_html(url, tracking.subscription_html or DEFAULT_SUBSCRIPTION_HTML)),
        _append_text(body.text, _link_text(url, tracking.subscription_text or DEFAULT_SUBSCRIPTION_TEXT)),
    )


def rewrite_links(body: Body, tracking: TrackingConfig, links: TrackingLinks) -> Body:
    utm = tracking.utm if tracking.ganalytics_enabled else {}

    def rewriter(track_clicks: bool) -> UrlRewriter:
        def rewrite(url: str) -> str:
            if links.is_tracking_url(url):
                return url
            url = with_query_params(url, utm)
            return links.click_url(url) if track_clicks else url

        return rewrite

    return Body(
        None if body.html is None else rewrite_html_links(body.html, rewriter(tracking.click_enabled)),
        None
        if body.text is None
        else rewrite_text_links(body.text, rewriter(tracking.click_enabled and tracking.click_enable_text)),
    )


def add_open_pixel(body: Body, tracking: TrackingConfig, links: TrackingLinks) -> Body:
    if body.html is None or not tracking.open_enabled:
        return body
    pixel = (
        f'<img src="{html.escape(links.open_pixel_url(), quote=True)}" alt="" width="1" height="1" '
        f'border="0" style="{PIXEL_STYLE}" />'
    )
    tag = tracking.open_substitution_tag
    if tag and tag in body.html:
        return Body(body.html.replace(tag, pixel), body.text)
    return Body(insert_before_body_end(body.html, pixel), body.text)


def unsubscribe_headers(tracking: TrackingConfig, links: TrackingLinks, asm_group_id: int | None) -> dict[str, str]:
    if not tracking.subscription_enabled and asm_group_id is None:
        return {}
    return {
        "List-Unsubscribe": f"<{links.unsubscribe_mailto()}>, <{links.unsubscribe_url()}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


def instrument(
    body: Body,
    *,
    preheader: str | None,
    tracking: TrackingConfig,
    footer: Footer | None,
    links: TrackingLinks,
    asm_group_id: int | None,
) -> Instrumented:
    """The message's HTML and text with every tracking feature applied, and the headers they need."""
    body = add_preheader(body, preheader)
    body = add_footer(body, footer)
    body = add_unsubscribe(body, tracking, links)
    body = rewrite_links(body, tracking, links)
    body = add_open_pixel(body, tracking, links)
    return Instrumented(body.html, body.text, unsubscribe_headers(tracking, links, asm_group_id))
