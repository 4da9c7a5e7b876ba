"""scaisend.linear_re: RE2 with the behaviour the converted patterns relied on in Python's re."""

from __future__ import annotations

import sys

from scaisend import linear_re


def test_space_is_pythons_whitespace() -> None:
    pattern = linear_re.compile(linear_re.SPACE)
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if char.isspace() or code < 0x3100:  # every space, and every other character up to CJK
            assert (pattern.fullmatch(char) is not None) == char.isspace(), hex(code)


def test_replacement_strings_are_literal_and_lone_surrogates_are_read() -> None:
    pattern = linear_re.compile(r"(a)", ignorecase=True)
    assert pattern.sub(r"\1€", "xAy") == r"x\1€y"
    assert pattern.sub(lambda m: m.group(1) * 2, "A\ud800a") == "AA\ufffdaa"
    match = pattern.search("\ud800\ud800a")
    assert match is not None
    assert match.span() == (2, 3)


def test_dotall_and_escape() -> None:
    assert linear_re.compile("a.b", dotall=True).search("a\nb") is not None
    assert linear_re.compile("a.b").search("a\nb") is None
    assert linear_re.compile(linear_re.escape("a.b*")).fullmatch("a.b*") is not None
