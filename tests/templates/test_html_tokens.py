"""The linear HTML tokenizer gives html_to_text the events Python's html.parser gives on well-formed HTML, so the
generated text/plain part is the same as before the tokenizer replaced html.parser (issue 9, finding 2)."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaisend.templates.html_to_text import TextExtractor, convert


class _Reference(HTMLParser):
    """The previous implementation: html.parser's events into the same extractor."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.extractor = TextExtractor()
        self.handle_starttag = self.extractor.handle_starttag  # type: ignore[method-assign]
        self.handle_endtag = self.extractor.handle_endtag  # type: ignore[method-assign]
        self.handle_data = self.extractor.handle_data  # type: ignore[method-assign]


def reference(html: str) -> str:
    parser = _Reference()
    parser.feed(html)
    parser.close()
    return parser.extractor.text()


WORDS = st.sampled_from(["Hello", "café", "a &amp; b", "&lt;3", "&#x2764;", "x < y", "  spaced  ", "line\nbreak", "ok"])
ATTRIBUTES = st.sampled_from(
    ["", ' class="c"', " href='https://x.test/a?b=1&amp;c=2'", ' href="https://x.test"', ' alt="Logo"', " id=x"]
)
BLOCKS = ["p", "div", "h1", "li", "td", "tr", "table", "ul", "ol", "span", "b", "a", "pre", "blockquote", "center"]


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5 if depth < 3 else 1))
        if kind <= 1:
            parts.append(draw(WORDS))
        elif kind == 2:
            parts.append(draw(st.sampled_from(["<br>", "<br/>", '<img alt="pic" src="p.png" />', "<hr>"])))
        elif kind == 3:
            parts.append(
                draw(st.sampled_from(["<!-- note -->", "<script>var a = '<b>';</script>", "<style>p{}</style>"]))
            )
        else:
            tag = "a" if depth and draw(st.booleans()) is False else draw(st.sampled_from(BLOCKS))
            inner = draw(documents(depth + 1)) if tag != "a" else draw(WORDS)  # links do not nest in valid HTML
            parts.append(f"<{tag}{draw(ATTRIBUTES)}>{inner}</{tag}>")
    return "".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(html=documents())
def test_same_text_as_html_parser_on_well_formed_html(html: str) -> None:
    assert convert(html) == reference(html)


def test_same_text_on_an_email_shaped_document() -> None:
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>T</title><style>td{}</style></head>"
        "<body><!--[if mso]><table><![endif]--><table role=presentation><tr><td align=center>"
        "<h1>Order &#35;42</h1><p>Hi&nbsp;Ann,<br/>your order:</p><ul><li>Tea</li><li>Cake<ol><li>a</li></ol></li></ul>"
        "<a href=\"https://x.test/o?id=42&amp;s=1\" clicktracking=off>See it</a> <a href='#top'>top</a>"
        "<img src=x.png alt='Logo'><pre>  keep\n  this</pre></td></tr></table></body></html>"
    )
    assert convert(html) == reference(html)


def test_malformed_html_ends_cleanly() -> None:
    assert convert("<p>text <a href='x") == "text"  # the unclosed tag runs to the end and is dropped (HTML5)
    assert convert("a <!-- never closed <p>b</p>") == "a"
    assert convert("1 < 2 and 3 </ 4 > 0") == "1 < 2 and 3 0"
    assert convert('<a href="https://a.test">one <a href="https://b.test">two</a></a>') == (
        "one (https://a.test)two (https://b.test)"
    )
