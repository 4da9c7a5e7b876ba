"""Regular expressions for untrusted input, matched in linear time (RE2 through ``google-re2``).

Python's :mod:`re` backtracks: a pattern such as ``<%\\s*(.*?)\\s*%>`` takes cubic time on ``"<%" + " " * n``. RE2
compiles to automata and matches in time linear in the input for one search, whatever the pattern; it has no
backreferences and no look-around, which is why the patterns that use this module avoid them. See
docs/security.md, "Linear-time input handling", for where each pattern is used and why it stays linear when a
search is repeated (``sub``/``finditer``).

Differences from :mod:`re` that matter here, and how this module irons them out:

- flags are RE2 options: :func:`compile` takes ``ignorecase`` / ``dotall`` instead of ``re.I`` / ``re.S``;
- ``\\s``, ``\\d`` and ``\\b`` are ASCII-only in RE2; :data:`SPACE` is the character class of Python's ``\\s`` (what
  ``str.isspace`` accepts; :data:`SPACE_CHARS` its inside, to build classes such as ``[^{SPACE_CHARS}>]``) for patterns that must treat Unicode spaces as Python did;
- a string replacement is always literal (no ``\\1`` group references): pass a function to use groups;
- text with lone surrogates (valid in a Python ``str``, possible from JSON ``"\\ud800"``) cannot be UTF-8 encoded for
  RE2: such text is matched with each lone surrogate read as U+FFFD, which keeps every offset the same.

Every search of a ``str`` encodes the whole text once, so call these patterns once per text (``search``, ``sub``,
``finditer``), never in a loop that passes a growing ``pos`` over one long text: that loop is quadratic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, AnyStr, Generic, Protocol, TypeVar

import re2  # type: ignore[import-untyped]

__all__ = ["SPACE", "SPACE_CHARS", "LinearPattern", "Match", "compile", "escape", "readable"]

# Python's str.isspace() set: ASCII controls \t \n \v \f \r, \x1c-\x1f, space, NEL, NBSP and the Unicode spaces.
SPACE_CHARS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
SPACE = f"[{SPACE_CHARS}]"
_SURROGATE = re.compile("[\ud800-\udfff]")  # linear: one character class, no repetition


_Text_co = TypeVar("_Text_co", str, bytes, covariant=True)


class Match(Protocol[_Text_co]):
    """The part of a match object the project uses (RE2's match offers the same methods as :class:`re.Match`)."""

    @property
    def string(self) -> _Text_co: ...

    @property
    def lastgroup(self) -> str | None: ...

    def group(self, group: int | str = 0, /) -> _Text_co | Any: ...

    def groups(self, default: Any = None) -> tuple[_Text_co | Any, ...]: ...

    def start(self, group: int = 0) -> int: ...

    def end(self, group: int = 0) -> int: ...

    def span(self, group: int = 0) -> tuple[int, int]: ...


def readable(text: AnyStr) -> AnyStr:
    """``text`` as RE2 can take it: lone surrogates become U+FFFD (same length, so offsets do not move)."""
    return _SURROGATE.sub("\ufffd", text) if isinstance(text, str) else text  # type: ignore[redundant-expr]


class LinearPattern(Generic[AnyStr]):
    """A compiled RE2 pattern with the :class:`re.Pattern` methods the project uses."""

    __slots__ = ("_regexp", "pattern")

    def __init__(self, pattern: AnyStr, *, ignorecase: bool = False, dotall: bool = False) -> None:
        options = re2.Options()
        options.case_sensitive = not ignorecase
        options.dot_nl = dotall
        self.pattern: AnyStr = pattern
        self._regexp = re2.compile(pattern, options)

    def _call(self, method: str, text: AnyStr, *args: Any) -> Any:
        try:
            return getattr(self._regexp, method)(text, *args)
        except UnicodeEncodeError:
            return getattr(self._regexp, method)(readable(text), *args)

    def search(self, text: AnyStr) -> Match[AnyStr] | None:
        return self._call("search", text)

    def match(self, text: AnyStr) -> Match[AnyStr] | None:
        return self._call("match", text)

    def fullmatch(self, text: AnyStr) -> Match[AnyStr] | None:
        return self._call("fullmatch", text)

    def finditer(self, text: AnyStr) -> Iterator[Match[AnyStr]]:
        try:
            yield from self._regexp.finditer(text)
        except UnicodeEncodeError:
            yield from self._regexp.finditer(readable(text))

    def sub(self, repl: AnyStr | Callable[[Match[AnyStr]], AnyStr], text: AnyStr, count: int = 0) -> AnyStr:
        """``text`` with each match replaced by ``repl(match)``, or by ``repl`` itself when it is a string."""
        function = repl if callable(repl) else (lambda _match: repl)
        try:
            return self._regexp.sub(function, text, count)
        except UnicodeEncodeError:
            return self._regexp.sub(function, readable(text), count)


def escape(text: str) -> str:
    """``text`` as an RE2 pattern matching it literally."""
    return re2.escape(readable(text))


def compile(pattern: AnyStr, *, ignorecase: bool = False, dotall: bool = False) -> LinearPattern[AnyStr]:
    """``pattern`` (RE2 syntax: no backreferences, no look-around) compiled for linear-time matching."""
    return LinearPattern(pattern, ignorecase=ignorecase, dotall=dotall)
