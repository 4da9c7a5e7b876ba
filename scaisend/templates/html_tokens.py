"""A linear-time HTML tokenizer (for :mod:`scaisend.templates.html_to_text`): start tags with their attributes, end
tags and text, in document order; comments, doctypes and processing instructions are dropped.

Python's :class:`html.parser.HTMLParser` (3.11) is quadratic or worse on crafted input (``"<a x='" * n`` took
15 s at 60 KB; ``"<!--" * n`` and ``"<a" * n`` rescan the rest of the document from every ``<``). This tokenizer
follows the HTML5 tokenizer's rules instead, which consume every character once: a construct that never ends (an
unclosed comment, quote or tag) runs to the end of the input and is dropped, so nothing is ever scanned twice. Each
regular expression below is anchored at the current position and has a single repetition of one character class, and
each search looks for a fixed string: all linear.

On well-formed HTML the events are the ones HTMLParser gives (lower-case tag and attribute names, attribute values
and text with character references decoded, ``<x/>`` as a start and an end tag, ``<script>``/``<style>`` content as
raw text); tests/templates/test_html_to_text.py compares the two.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

Attributes = list[tuple[str, str | None]]

_RAW_TEXT = frozenset({"script", "style"})  # as HTMLParser: their content is text up to the matching end tag
_TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\f\r />]*")
_SEPARATORS = re.compile(r"[\t\n\f\r /]*")
_SPACES = re.compile(r"[\t\n\f\r ]*")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_UNQUOTED_VALUE = re.compile(r"[^\t\n\f\r >]*")
_COMMENT_END = re.compile(r"--!?>")
_RAW_TEXT_END = {name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.IGNORECASE) for name in _RAW_TEXT}


@dataclass(frozen=True, slots=True)
class StartTag:
    name: str
    attributes: Attributes
    self_closing: bool = False


@dataclass(frozen=True, slots=True)
class EndTag:
    name: str


@dataclass(frozen=True, slots=True)
class Text:
    data: str


Token = StartTag | EndTag | Text


def _attributes(source: str, i: int) -> tuple[Attributes, bool, int] | None:
    """The attributes from ``source[i:]`` up to the tag's ``>``, whether it ends ``/>``, and the index after ``>``;
    ``None`` when the input ends inside the tag."""
    attributes: Attributes = []
    end = len(source)
    while True:
        i = _SEPARATORS.match(source, i).end()  # type: ignore[union-attr]  # matches the empty string at worst
        if i >= end:
            return None
        if source[i] == ">":
            return attributes, source[i - 1] == "/", i + 1
        name_match = _ATTRIBUTE_NAME.match(source, i)
        assert name_match is not None  # source[i] is none of the separators nor ">"
        i = _SPACES.match(source, name_match.end()).end()  # type: ignore[union-attr]
        value: str | None = None
        if source.startswith("=", i):
            i = _SPACES.match(source, i + 1).end()  # type: ignore[union-attr]
            if i < end and source[i] in "\"'":
                close = source.find(source[i], i + 1)
                if close < 0:
                    return None
                value, i = source[i + 1 : close], close + 1
            else:
                value_match = _UNQUOTED_VALUE.match(source, i)
                assert value_match is not None  # matches the empty string at worst
                value, i = value_match.group(0), value_match.end()
        attributes.append((name_match.group(0).lower(), None if value is None else html.unescape(value)))


def _skip_declaration(source: str, i: int) -> int:
    """The index after the comment, doctype, CDATA section or processing instruction starting at ``source[i]``
    (``<!`` or ``<?``); the end of the input when it is not closed."""
    if source.startswith("<!--", i):
        if source.startswith(">", i + 4):  # <!-->
            return i + 5
        if source.startswith("->", i + 4):  # <!--->
            return i + 6
        match = _COMMENT_END.search(source, i + 4)
        return len(source) if match is None else match.end()
    close = source.find(">", i + 2)
    return len(source) if close < 0 else close + 1


def _markup(source: str, lt: int) -> tuple[StartTag | EndTag | str | None, int]:
    """What starts at ``source[lt]`` (a ``<``) and the index after it: a tag, literal text (a ``<`` that starts
    nothing), or ``None`` for something dropped (a comment, a declaration, a tag the input ends inside)."""
    i = lt + 1
    following = source[i : i + 1]
    if following.isascii() and following.isalpha():  # a start tag
        name = _TAG_NAME.match(source, i)
        assert name is not None
        parsed = _attributes(source, name.end())
        if parsed is None:
            return None, len(source)
        attributes, self_closing, i = parsed
        return StartTag(name.group(0).lower(), attributes, self_closing), i
    if following in ("!", "?"):
        return None, _skip_declaration(source, lt)
    if following != "/":
        return "<", i
    after = source[i + 1 : i + 2]
    if not after:
        return "</", len(source)
    if after == ">":  # </>
        return None, i + 2
    if not (after.isascii() and after.isalpha()):
        return None, _skip_declaration(source, lt)
    name = _TAG_NAME.match(source, i + 1)
    assert name is not None
    parsed = _attributes(source, name.end())
    return (None, len(source)) if parsed is None else (EndTag(name.group(0).lower()), parsed[2])


def tokenize(source: str) -> Iterator[Token]:
    """The tokens of ``source``, text runs whole (character references decoded)."""
    text: list[str] = []
    i, end = 0, len(source)
    while i < end:
        lt = source.find("<", i)
        if lt < 0:
            text.append(source[i:])
            break
        text.append(source[i:lt])
        token, i = _markup(source, lt)
        if token is None or isinstance(token, str):
            text.append(token or "")
            continue
        if text:
            yield Text(html.unescape("".join(text)))
            text = []
        yield token
        if isinstance(token, StartTag) and token.name in _RAW_TEXT and not token.self_closing:
            closing = _RAW_TEXT_END[token.name].search(source, i)
            stop = end if closing is None else closing.start()
            if stop > i:
                yield Text(source[i:stop])
            i = stop
    if text:
        yield Text(html.unescape("".join(text)))
