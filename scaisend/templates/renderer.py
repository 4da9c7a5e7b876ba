"""The rendering API the compose worker calls (docs/templates.md, D15): dynamic templates through Handlebars, legacy templates
and ``substitutions`` through plain key replacement.

Escaping: ``{{value}}`` is HTML-escaped in the HTML part only. The subject, the preheader and the text part are plain
text and are never escaped (unlike SendGrid, whose subjects show ``&amp;`` unless written with ``{{{…}}}``); the
caller escapes the preheader where it places it inside HTML. Line breaks in a rendered subject become spaces, so data
can never add a header. When a dynamic template has no text part, it is generated from the rendered HTML.

A part given as ``None`` stays ``None`` (no such part); an empty string stays an empty string. Compiled templates are
cached by source (at most :data:`COMPILE_CACHE_CHARACTERS` characters of source, plus
:data:`COMPILE_CACHE_ENTRY_COST` per template, least recently used first out), so a thousand personalizations of
one version parse it once and a few huge templates cannot fill the memory.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

from cachetools import LRUCache, cached

from scaisend.templates.handlebars import HandlebarsError, HandlebarsSyntaxError, Program, parse
from scaisend.templates.html_to_text import html_to_text
from scaisend.templates.interpreter import render
from scaisend.templates.legacy import substitute

COMPILE_CACHE_CHARACTERS = 8 * 1024 * 1024
COMPILE_CACHE_ENTRY_COST = 1024  # counted for each cached template on top of its length
_LINE_BREAKS = re.compile(r"[\r\n]+")


@dataclass(frozen=True)
class RenderedContent:
    subject: str | None
    html: str | None
    text: str | None
    preheader: str | None


class TemplateRenderError(Exception):
    """A template part that does not parse or cannot render; the message says which part and why."""

    def __init__(self, reason: str, part: str | None = None) -> None:
        super().__init__(f"{part}: {reason}" if part else reason)
        self.part = part
        self.reason = reason


class _Compiled(NamedTuple):
    program: Program
    weight: int


@cached(
    LRUCache(maxsize=COMPILE_CACHE_CHARACTERS, getsizeof=lambda compiled: compiled.weight),
    lock=threading.Lock(),
    info=True,
)
def compiled(source: str) -> _Compiled:
    """The cache behind :func:`compile_template` (``compiled.cache_info()``, ``compiled.cache_clear()``)."""
    return _Compiled(parse(source), len(source) + COMPILE_CACHE_ENTRY_COST)


def compile_template(source: str) -> Program:
    """The parsed program of ``source``, cached (syntax errors are not cached and raise each time; a source longer than
    the whole cache is parsed each time)."""
    return compiled(source).program


def check_syntax(source: str) -> None:
    """Raise :class:`TemplateRenderError` when ``source`` is not a valid dynamic template."""
    try:
        compile_template(source)
    except HandlebarsSyntaxError as exc:
        raise TemplateRenderError(f"syntax error: {exc}") from exc


def _render(part: str, source: str | None, data: dict[str, Any], *, escape: bool) -> str | None:
    if source is None:
        return None
    try:
        return render(compile_template(source), data, escape=escape)
    except HandlebarsSyntaxError as exc:
        raise TemplateRenderError(f"syntax error: {exc}", part) from exc
    except HandlebarsError as exc:
        raise TemplateRenderError(str(exc), part) from exc
    except RecursionError as exc:  # the parser bounds nesting; this is the last line of defence
        raise TemplateRenderError("the template nests too deeply to render", part) from exc


def _one_line(subject: str | None) -> str | None:
    return None if subject is None else _LINE_BREAKS.sub(" ", subject)


def render_dynamic(
    *, subject: str | None, html: str | None, text: str | None, preheader: str | None, data: dict[str, Any]
) -> RenderedContent:
    """Render a dynamic template version with one personalization's ``dynamic_template_data``."""
    rendered_html = _render("html", html, data, escape=True)
    rendered_text = _render("text", text, data, escape=False)
    if rendered_text is None and rendered_html is not None:
        rendered_text = html_to_text(rendered_html)
    return RenderedContent(
        subject=_one_line(_render("subject", subject, data, escape=False)),
        html=rendered_html,
        text=rendered_text,
        preheader=_render("preheader", preheader, data, escape=False),
    )


def render_legacy(
    *, subject: str | None, html: str | None, text: str | None, substitutions: dict[str, str]
) -> RenderedContent:
    """Apply legacy ``substitutions`` (plain key replacement, values unescaped) to each part; no preheader."""

    def apply(source: str | None) -> str | None:
        return None if source is None else substitute(source, substitutions)

    return RenderedContent(subject=_one_line(apply(subject)), html=apply(html), text=apply(text), preheader=None)
