"""Link rewriting for tracking (docs/compose.md): every ``http(s)`` link of an HTML part (``<a href>``, ``<area href>``) or
every bare URL of a text part goes through one function, which may add UTM parameters or swap it for a click-tracking
URL. Links are left alone when they are not ``http(s)`` (``mailto:``, ``tel:``, ``#anchor``, ``cid:``), when the
``<a>`` tag carries SendGrid's ``clicktracking=off`` attribute, or when they already point at our ``/t/`` routes.
Also the two insertion points of the HTML body: just after ``<body …>`` and just before ``</body>``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scaisend import linear_re
from scaisend.linear_re import SPACE, SPACE_CHARS, Match

UrlRewriter = Callable[[str], str]

# RE2 (linear time): tenant HTML. Each pattern's repeated searches (sub, finditer) stay linear because a match attempt
# that fails can only fail at the end of the text (no ">" / no closing quote left), which ends the search.
_TAG = linear_re.compile(r"<(?:a|area)\b[^>]*>", ignorecase=True)
_HREF = linear_re.compile(
    rf"""(?P<lead>\bhref{SPACE}*={SPACE}*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^{SPACE_CHARS}"'>]+))""",
    ignorecase=True,
)
_NO_TRACKING = linear_re.compile(rf"""\bclicktracking{SPACE}*={SPACE}*["']?off\b""", ignorecase=True)
_TEXT_URL = linear_re.compile(rf"""https?://[^{SPACE_CHARS}<>"'\]\[)(]+""", ignorecase=True)
_TRAILING_PUNCTUATION = ".,;:!?"
_BODY_OPEN = linear_re.compile(r"<body\b[^>]*>", ignorecase=True)
_BODY_CLOSE = linear_re.compile(rf"</body{SPACE}*>", ignorecase=True)


def is_web_url(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in ("http", "https")


def rewrite_html_links(body: str, rewrite: UrlRewriter) -> str:
    """``body`` with each ``http(s)`` ``href`` replaced by ``rewrite(original_url)`` (entities handled)."""

    def on_tag(tag_match: Match[str]) -> str:
        tag = tag_match.group(0)
        if _NO_TRACKING.search(tag):
            return tag
        href = _HREF.search(tag)
        if href is None:
            return tag
        raw = next(v for v in (href.group("dq"), href.group("sq"), href.group("bare")) if v is not None)
        url = html.unescape(raw).strip()
        if not is_web_url(url):
            return tag
        new_url = rewrite(url)
        if new_url == url:
            return tag
        replacement = f'{href.group("lead")}"{html.escape(new_url, quote=True)}"'
        return tag[: href.start()] + replacement + tag[href.end() :]

    return _TAG.sub(on_tag, body)


def rewrite_text_links(body: str, rewrite: UrlRewriter) -> str:
    """``body`` with each bare ``http(s)`` URL replaced by ``rewrite(url)``; trailing punctuation stays outside."""

    def on_url(match: Match[str]) -> str:
        found = match.group(0)
        url = found.rstrip(_TRAILING_PUNCTUATION)
        return rewrite(url) + found[len(url) :]

    return _TEXT_URL.sub(on_url, body)


def with_query_params(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended; a parameter the URL already has is kept as it is."""
    if not params:
        return url
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = {k: v for k, v in params.items() if k not in present}
    if not extra:
        return url
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def insert_before_body_end(body: str, snippet: str) -> str:
    """``snippet`` just before the last ``</body>``, or appended when there is none."""
    closes = list(_BODY_CLOSE.finditer(body))
    if not closes:
        return body + snippet
    at = closes[-1].start()
    return body[:at] + snippet + body[at:]


def insert_after_body_start(body: str, snippet: str) -> str:
    """``snippet`` just after the opening ``<body …>`` tag, or prepended when there is none."""
    opening = _BODY_OPEN.search(body)
    if opening is None:
        return snippet + body
    return body[: opening.end()] + snippet + body[opening.end() :]
