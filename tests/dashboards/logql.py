"""A small LogQL shape check (no Loki here): a log query is a stream selector followed by pipeline stages, and
nothing else. It knows the parts our panels use (Loki's LogQL documentation, "Log queries"):

- selector ``{label op "value", ...}`` with ``=``, ``!=``, ``=~``, ``!~`` and at least one matcher;
- line filters ``|= "…"``, ``!= "…"``, ``|~ "…"``, ``!~ "…"``;
- parsers ``| json``, ``| logfmt``;
- label filters ``| name op "value"`` (``=``, ``!=``, ``=~``, ``!~``), and ``| line_format "…"``.

It returns the selector's label names, so a test can hold them to the labels the shipper sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRING = r'"(?:[^"\\]|\\.)*"'
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(rf"\s*({_NAME})\s*(=~|!~|!=|=)\s*({_STRING})\s*")
_LINE_FILTER = re.compile(rf"\s*(\|=|!=|\|~|!~)\s*{_STRING}")
_PARSER = re.compile(r"\s*\|\s*(json|logfmt)\b(?!\s*(=|!=|=~|!~))")
_LABEL_FILTER = re.compile(rf"\s*\|\s*({_NAME})\s*(=~|!~|!=|=)\s*{_STRING}")
_LINE_FORMAT = re.compile(rf"\s*\|\s*line_format\s+{_STRING}")


@dataclass(frozen=True)
class LogQuery:
    selector_labels: tuple[str, ...]
    parsed: bool  # has a parser stage, so label filters may name fields of the line


def parse_log_query(query: str) -> LogQuery:
    """The query's shape, or ``ValueError`` naming where it stops making sense."""
    text = query.strip()
    if not text.startswith("{"):
        raise ValueError("a log query starts with a stream selector {…}")
    end = _selector_end(text)
    labels = []
    position = 1
    body = text[1:end]
    while position - 1 < len(body):
        match = _MATCHER.match(body, position - 1)
        if match is None:
            raise ValueError(f"bad matcher at {body[position - 1 :]!r}")
        labels.append(match.group(1))
        position = match.end() + 1
        if position - 1 < len(body):
            if body[position - 1] != ",":
                raise ValueError(f"expected ',' at {body[position - 1 :]!r}")
            position += 1
    if not labels:
        raise ValueError("empty stream selector")
    rest, parsed = end + 1, False
    while rest < len(text):
        for pattern in (_LINE_FILTER, _PARSER, _LINE_FORMAT, _LABEL_FILTER):
            match = pattern.match(text, rest)
            if match is not None:
                if pattern is _PARSER:
                    parsed = True
                elif pattern is _LABEL_FILTER and not parsed and match.group(1) not in labels:
                    raise ValueError(f"label filter on {match.group(1)!r} before any parser")
                rest = match.end()
                break
        else:
            if text[rest:].strip():
                raise ValueError(f"unexpected {text[rest:]!r}")
            break
    return LogQuery(tuple(labels), parsed)


def _selector_end(text: str) -> int:
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "}":
            return index
    raise ValueError("unterminated stream selector")
