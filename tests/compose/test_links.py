"""Link rewriting primitives: which links are touched, entities, quoting styles, UTM and body insertion points."""

from __future__ import annotations

import pytest

from scaisend.compose.links import (
    insert_after_body_start,
    insert_before_body_end,
    rewrite_html_links,
    rewrite_text_links,
    with_query_params,
)


def mark(url: str) -> str:
    return f"https://t.test/?u={url}"


class TestRewriteHtmlLinks:
    @pytest.mark.parametrize(
        ("html", "expected"),
        [
            ('<a href="https://a.test/x">x</a>', '<a href="https://t.test/?u=https://a.test/x">x</a>'),
            ("<a href='http://a.test/x'>x</a>", '<a href="https://t.test/?u=http://a.test/x">x</a>'),
            ("<A HREF=https://a.test/x>x</A>", '<A HREF="https://t.test/?u=https://a.test/x">x</A>'),
            (
                '<area shape="rect" href="https://a.test/m">',
                '<area shape="rect" href="https://t.test/?u=https://a.test/m">',
            ),
            (
                '<a href="https://a.test/?a=1&amp;b=2">x</a>',
                '<a href="https://t.test/?u=https://a.test/?a=1&amp;b=2">x</a>',
            ),
        ],
    )
    def test_web_links_are_rewritten(self, html: str, expected: str) -> None:
        assert rewrite_html_links(html, mark) == expected

    @pytest.mark.parametrize(
        "html",
        [
            '<a href="mailto:a@b.test">m</a>',
            '<a href="tel:+123">t</a>',
            '<a href="#x">a</a>',
            '<a name="x">a</a>',
            '<img src="https://a.test/i.png">',
            '<a clicktracking="off" href="https://a.test/">x</a>',
            '<link href="https://a.test/style.css">',
        ],
    )
    def test_other_links_are_left_alone(self, html: str) -> None:
        assert rewrite_html_links(html, mark) == html


class TestRewriteTextLinks:
    def test_trailing_punctuation_stays_outside(self) -> None:
        text = "Go to https://a.test/x, or (https://a.test/y). Done: http://a.test/z!"
        assert (
            rewrite_text_links(text, lambda u: f"[{u}]") == "Go to [https://a.test/x], or ([https://a.test/y]). "
            "Done: [http://a.test/z]!"
        )


class TestWithQueryParams:
    def test_appends_and_keeps_fragment(self) -> None:
        assert (
            with_query_params("https://a.test/p#frag", {"utm_source": "n l"}) == "https://a.test/p?utm_source=n+l#frag"
        )

    def test_existing_params_are_kept(self) -> None:
        assert (
            with_query_params("https://a.test/?utm_source=x&q=1", {"utm_source": "y", "utm_medium": "m"})
            == "https://a.test/?utm_source=x&q=1&utm_medium=m"
        )


class TestBodyInsertion:
    def test_before_the_last_body_end(self) -> None:
        assert insert_before_body_end("<body>a</BODY >", "X") == "<body>aX</BODY >"
        assert insert_before_body_end("a", "X") == "aX"

    def test_after_the_body_start(self) -> None:
        assert insert_after_body_start('<head></head><Body style="x">a', "X") == '<head></head><Body style="x">Xa'
        assert insert_after_body_start("a", "X") == "Xa"
