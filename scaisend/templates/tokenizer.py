"""Splits a dynamic template into text and ``{{…}}`` tags (D15), and applies Handlebars' whitespace rules: a block
tag alone on its line takes the line with it (standalone rule), ``{{~`` / ``~}}`` eat the whitespace on their side,
``\\{{`` is a literal ``{{``. Comments are kept as tokens only so that they can be standalone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scaisend.templates.syntax import HandlebarsSyntaxError

TagKind = Literal["text", "comment", "open", "inverted", "close", "else", "mustache", "raw"]
_STANDALONE = frozenset({"comment", "open", "inverted", "close", "else"})


@dataclass(slots=True)
class Token:
    kind: TagKind
    content: str
    index: int
    strip_left: bool = False
    strip_right: bool = False
    cut_start: int = 0  # text tokens: characters removed from the start / end by whitespace rules
    cut_end: int = 0


# The closers of each tag kind, searched for together: one search that stops at the first of them. (Searching for
# each with str.find and keeping the nearest scanned to the end of the template for a closer that is never used, on
# every tag: quadratic.) Literal alternatives only, so Python's re is linear here.
_CLOSERS: dict[tuple[str, ...], re.Pattern[str]] = {
    needles: re.compile("|".join(map(re.escape, needles))) for needles in (("--}}", "--~}}"), ("}}}", "}~}}"))
}


def _find(source: str, needles: tuple[str, ...], start: int, opened_at: int) -> tuple[int, str]:
    """The first of ``needles`` at or after ``start`` (its index and which one); an unclosed tag otherwise."""
    if len(needles) == 1:
        at = source.find(needles[0], start)
        found = None if at < 0 else (at, needles[0])
    else:
        match = _CLOSERS[needles].search(source, start)
        found = None if match is None else (match.start(), match.group(0))
    if found is None:
        raise HandlebarsSyntaxError(f"unclosed tag, expected {needles[0]!r}", source, opened_at)
    return found


def _tag(source: str, i: int) -> tuple[Token, int]:
    """The tag starting at ``source[i:]`` (which is ``{{``) and the index just after it."""
    j = i + 2
    strip_left = source.startswith("~", j)
    j += strip_left
    if source.startswith("!--", j):
        end, needle = _find(source, ("--}}", "--~}}"), j + 3, i)
        return Token("comment", "", i, strip_left, "~" in needle), end + len(needle)
    if source.startswith("!", j):
        end, needle = _find(source, ("}}",), j, i)
        return Token("comment", "", i, strip_left, source[end - 1] == "~"), end + 2
    if source.startswith("{", j):
        if source.startswith("{", j + 1):
            raise HandlebarsSyntaxError("raw blocks {{{{…}}}} are not supported", source, i)
        end, needle = _find(source, ("}}}", "}~}}"), j + 1, i)
        return Token("raw", source[j + 1 : end].strip(), i, strip_left, "~" in needle), end + len(needle)
    end, _ = _find(source, ("}}",), j, i)
    content = source[j:end]
    strip_right = content.endswith("~")
    content = content[:-1] if strip_right else content
    return _classify(content, source, i, strip_left, strip_right), end + 2


def _classify(content: str, source: str, i: int, strip_left: bool, strip_right: bool) -> Token:
    stripped = content.strip()
    first = stripped[:1]
    if first == "#":
        if stripped[1:2] in ("*", ">"):
            raise HandlebarsSyntaxError("decorators and partial blocks are not supported", source, i)
        return Token("open", stripped[1:], i, strip_left, strip_right)
    if first == "/":
        return Token("close", stripped[1:].strip(), i, strip_left, strip_right)
    if first == "^":
        rest = stripped[1:].strip()
        return Token("inverted" if rest else "else", rest, i, strip_left, strip_right)
    if first == ">":
        raise HandlebarsSyntaxError("partials ({{> name}}) are not supported", source, i)
    if first == "&":
        return Token("raw", stripped[1:], i, strip_left, strip_right)
    if stripped == "else" or stripped.startswith(("else ", "else\t", "else\n")):
        return Token("else", stripped[4:].strip(), i, strip_left, strip_right)
    if not stripped:
        raise HandlebarsSyntaxError("empty tag {{}}", source, i)
    return Token("mustache", stripped, i, strip_left, strip_right)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    text: list[str] = []
    text_start = pos = 0
    while True:
        i = source.find("{{", pos)
        if i < 0:
            text.append(source[pos:])
            break
        if i > 0 and source[i - 1] == "\\":  # \{{ is a literal {{
            text.append(source[pos : i - 1] + "{{")
            pos = i + 2
            continue
        text.append(source[pos:i])
        tokens.append(Token("text", "".join(text), text_start))
        text = []
        token, pos = _tag(source, i)
        tokens.append(token)
        text_start = pos
    tokens.append(Token("text", "".join(text), text_start))
    _apply_whitespace_rules(tokens)
    return tokens


def _apply_whitespace_rules(tokens: list[Token]) -> None:
    """Standalone block tags take their whole line with them; ``~`` eats the whitespace on its side.

    Tokens alternate text, tag, text, …, tag, text (the tokenizer always emits a text token between two tags)."""
    for k in range(1, len(tokens) - 1, 2):
        tag, before, after = tokens[k], tokens[k - 1], tokens[k + 1]
        if tag.kind in _STANDALONE:
            line_start = before.content.rfind("\n") + 1
            if line_start == 0 and k != 1:  # the previous text has no newline: another tag shares this line
                line_start = -1
            newline = after.content.find("\n")
            line_end = len(after.content) if newline < 0 and k + 1 == len(tokens) - 1 else newline
            if (
                line_start >= 0
                and line_end >= 0
                and not before.content[line_start:].strip(" \t")
                and not after.content[:line_end].strip(" \t\r")
            ):
                before.cut_end = max(before.cut_end, len(before.content) - line_start)
                after.cut_start = max(after.cut_start, line_end + 1 if newline >= 0 else line_end)
        if tag.strip_left:
            before.cut_end = max(before.cut_end, len(before.content) - len(before.content.rstrip()))
        if tag.strip_right:
            after.cut_start = max(after.cut_start, len(after.content) - len(after.content.lstrip()))
    for token in tokens[::2]:
        end = len(token.content) - token.cut_end
        token.content = token.content[token.cut_start : max(end, token.cut_start)]
