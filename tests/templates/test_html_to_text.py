"""Plain text generated from HTML (docs/templates.md, D15: plain_content missing → generated from the HTML)."""

from __future__ import annotations

from scaisend.templates.html_to_text import html_to_text


class TestHtmlToText:
    def test_paragraphs_headings_and_breaks(self) -> None:
        html = "<h1>Hello &amp; welcome</h1><p>First   line<br>second\nline</p><div>a</div><div>b</div>"
        assert html_to_text(html) == "Hello & welcome\n\nFirst line\nsecond line\n\na\nb"

    def test_links_keep_their_url(self) -> None:
        html = (
            '<p>Visit <a href="https://x.test/a?b=1&amp;c=2">our site</a>, <a href="https://x.test">'
            'https://x.test</a>, <a href="mailto:help@x.test">help@x.test</a>, <a href="#top">top</a> '
            'and <a href="https://x.test/i"><img src="i.png" alt=""></a>.</p>'
        )
        assert html_to_text(html) == (
            "Visit our site (https://x.test/a?b=1&c=2), https://x.test, help@x.test, top and https://x.test/i."
        )

    def test_lists(self) -> None:
        html = "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul><p>after</p>"
        assert html_to_text(html) == "- one\n- two\n\n   1. a\n   2. b\n\nafter"

    def test_tables(self) -> None:
        html = "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Tea</td><td>$2</td></tr></table>"
        assert html_to_text(html) == "Item Price\nTea $2"

    def test_skips_head_style_script_and_comments(self) -> None:
        html = (
            "<html><head><title>T</title><style>p {color: red}</style></head><body><!--[if mso]>x<![endif]-->"
            "<script>alert(1)</script><p>Body</p></body></html>"
        )
        assert html_to_text(html) == "Body"

    def test_pre_keeps_whitespace(self) -> None:
        assert html_to_text("<p>Code:</p><pre>  a = 1\n    b</pre>") == "Code:\n\n  a = 1\n    b"

    def test_entities_images_and_invisible_padding(self) -> None:
        html = '<p>caf&eacute; &lt;3&nbsp;&#x2764;</p><img alt="Logo" src="l.png"><span>&zwnj;&#847;&shy;</span>'
        assert html_to_text(html) == "café <3 ❤\n\nLogo"

    def test_plain_text_and_broken_html(self) -> None:
        assert html_to_text("just text") == "just text"
        assert (
            html_to_text("<p>unclosed <b>bold <a href='https://x.test'>link") == "unclosed bold link (https://x.test)"
        )
        assert html_to_text("") == ""
