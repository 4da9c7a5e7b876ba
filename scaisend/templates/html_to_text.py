"""Plain text from HTML, for the ``text/plain`` part when a template has no ``plain_content`` (docs/templates.md, D15).

Linear in the input (:mod:`scaisend.templates.html_tokens` tokenizes), and small and predictable rather than clever: tags are dropped, ``<script>``/``<style>``/``<head>`` content is skipped,
block elements become paragraphs or line breaks, ``<br>`` a line break, list items ``- item`` (``1. item`` in ``<ol>``),
links ``text (url)`` (just ``url`` when the text is the url; ``#anchors`` and ``javascript:`` links keep only their
text), images their ``alt`` text, table cells are separated by spaces and rows by line breaks, ``<pre>`` keeps its
whitespace. Entities are decoded, whitespace collapsed, invisible preheader padding (zero-width characters, soft
hyphens) removed. Links do not nest (an ``<a>`` inside an open one ends it, as in browsers); lists indent at most
:data:`MAX_LIST_INDENT` levels.
"""

from __future__ import annotations

import re
import sys
import threading

from cachetools import LRUCache

from scaisend.templates.html_tokens import EndTag, StartTag, tokenize

MAX_LIST_INDENT = 8  # nested lists indent 3 spaces a level up to this depth (deeper ones are not indented further)
CACHE_BYTES = 32 * 1024 * 1024  # memory of the HTML and text kept by html_to_text's cache (D67)
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
_PARAGRAPH = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "pre",
        "hr",
        "ul",
        "ol",
        "dl",
        "form",
        "address",
        "figure",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
    }
)
_LINE = frozenset({"div", "tr", "li", "dt", "dd", "center", "caption", "figcaption", "fieldset"})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u034f\u00ad]")
# Markers that survive whitespace collapsing; a run of them becomes the strongest break it contains.
_BREAK = "\x00"  # a hard line break (<br>, a newline inside <pre>): each one counts
_KEPT_SPACE = "\x01"  # a space inside <pre> or list indentation
_LINE_END = "\x02"  # the end of a line-level element (div, li, tr): one newline
_PARAGRAPH_END = "\x03"  # the end of a paragraph-level element: a blank line
_MARKERS = _BREAK + _KEPT_SPACE + _LINE_END + _PARAGRAPH_END
_BREAK_RUN = re.compile(f" ?[{_BREAK}{_LINE_END}{_PARAGRAPH_END}][{_BREAK}{_LINE_END}{_PARAGRAPH_END} ]*")


def _newlines(run: re.Match[str]) -> str:
    text = run.group(0)
    return "\n" * min(max(2 if _PARAGRAPH_END in text else 1 if _LINE_END in text else 0, text.count(_BREAK)), 2)


class TextExtractor:
    """Collects the text; takes the events of :func:`scaisend.templates.html_tokens.tokenize` (the same calls as
    :class:`html.parser.HTMLParser` makes, so a test can drive it with either)."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[tuple[str | None, int]] = []  # href and the chunk index where the link text starts
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), next number]
        self.cell_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        attributes = dict(attrs)
        if tag in ("ul", "ol"):
            self.lists.append([int(tag == "ol"), 1])
        self._block_break(tag)
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "br":
            self.chunks.append(_BREAK)
        elif tag == "li":
            self._list_item()
        elif tag == "tr":
            self.cell_in_row = 0
        elif tag in ("td", "th"):
            self.chunks.append(" " if self.cell_in_row else "")
            self.cell_in_row += 1
        elif tag == "a":
            if self.links:  # links do not nest: a new one ends the open one, as browsers do
                self._close_link()
            self.links.append((attributes.get("href"), len(self.chunks)))
        elif tag == "img" and attributes.get("alt"):
            self.chunks.append(f" {attributes['alt']} ")

    def _list_item(self) -> None:
        indent = _KEPT_SPACE * 3 * min(max(len(self.lists) - 1, 0), MAX_LIST_INDENT)
        if self.lists and self.lists[-1][0]:
            self.chunks.append(f"{indent}{self.lists[-1][1]}. ")
            self.lists[-1][1] += 1
        else:
            self.chunks.append(f"{indent}- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(self.skip_depth - 1, 0)
            return
        if self.skip_depth:
            return
        if tag == "a" and self.links:
            self._close_link()
        elif tag == "pre":
            self.pre_depth = max(self.pre_depth - 1, 0)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        self._block_break(tag)

    def _block_break(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self.chunks.append(_PARAGRAPH_END)
        elif tag in _LINE:
            self.chunks.append(_LINE_END)

    def _close_link(self) -> None:
        href, start = self.links.pop()
        if not href:
            return
        href = href.strip()
        if href.startswith(("#", "javascript:")) or not href:
            return
        text = " ".join("".join(self.chunks[start:]).split())
        shown = href.removeprefix("mailto:") if href.startswith("mailto:") else href
        if not text:
            self.chunks.append(shown)
        elif text not in (href, shown):
            self.chunks.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.chunks.append(data.replace("\r\n", "\n").replace("\n", _BREAK).replace(" ", _KEPT_SPACE))
        else:
            self.chunks.append(data)

    def text(self) -> str:
        while self.links:
            self._close_link()
        text = " ".join(_INVISIBLE.sub("", "".join(self.chunks)).split())  # collapse all source whitespace
        text = _BREAK_RUN.sub(_newlines, text).replace(_KEPT_SPACE, " ")
        return text.strip()

    def feed(self, html: str) -> None:
        for token in tokenize(html):
            if isinstance(token, StartTag):
                self.handle_starttag(token.name, token.attributes)
                if token.self_closing:
                    self.handle_endtag(token.name)
            elif isinstance(token, EndTag):
                self.handle_endtag(token.name)
            else:
                self.handle_data(token.data)


def convert(html: str) -> str:
    """The readable text of ``html`` (not cached)."""
    extractor = TextExtractor()
    extractor.feed(html.translate(_NO_MARKERS))
    return extractor.text()


_NO_MARKERS = {ord(marker): None for marker in _MARKERS}


def cached_bytes(html: str, text: str) -> int:
    """Memory one cache entry holds: both strings as Python stores them (1, 2 or 4 bytes a character, by the widest
    character, plus the object header), so a body of emoji weighs four times its length, as it does in memory."""
    return sys.getsizeof(html) + sys.getsizeof(text)


_CACHE: LRUCache[str, tuple[str, str]] = LRUCache(maxsize=CACHE_BYTES, getsizeof=lambda kept: cached_bytes(*kept))
_CACHE_LOCK = threading.Lock()


def html_to_text(html: str) -> str:
    """The readable text of ``html``, cached by content (many recipients often share one rendered body); the cache
    holds at most :data:`CACHE_BYTES` bytes of HTML and text together, least recently used first out."""
    with _CACHE_LOCK:
        kept = _CACHE.get(html)
    if kept is not None:
        return kept[1]
    text = convert(html)
    if cached_bytes(html, text) <= CACHE_BYTES:
        with _CACHE_LOCK:
            _CACHE[html] = (html, text)
    return text
