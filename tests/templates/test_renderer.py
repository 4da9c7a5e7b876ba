"""The rendering API the compose worker calls (docs/templates.md, D15): escaping per part, generated text, errors, caching."""

from __future__ import annotations

import time

import pytest

from scaisend.templates import renderer
from scaisend.templates.interpreter import MAX_OUTPUT_CHARS, MAX_STEPS
from scaisend.templates.renderer import (
    RenderedContent,
    TemplateRenderError,
    check_syntax,
    render_dynamic,
    render_legacy,
)

DATA = {"name": "Tom & <Jerry>", "items": [{"title": "Tea", "price": 2}]}


class TestRenderDynamic:
    def test_escapes_html_only(self) -> None:
        result = render_dynamic(
            subject="Hi {{name}}",
            html="<p>Hi {{name}}</p><p>{{{name}}}</p>",
            text="Hi {{name}}",
            preheader="For {{name}}",
            data=DATA,
        )
        assert result == RenderedContent(
            subject="Hi Tom & <Jerry>",
            html="<p>Hi Tom &amp; &lt;Jerry&gt;</p><p>Tom & <Jerry></p>",
            text="Hi Tom & <Jerry>",
            preheader="For Tom & <Jerry>",
        )

    def test_text_is_generated_from_the_rendered_html(self) -> None:
        html = (
            "<h1>Receipt for {{name}}</h1><ul>{{#each items}}<li>{{title}}: ${{price}}</li>{{/each}}</ul>"
            '<p><a href="https://shop.test/orders?u={{name}}">Your orders</a></p>'
        )
        result = render_dynamic(subject=None, html=html, text=None, preheader=None, data=DATA)
        assert result.text == (
            "Receipt for Tom & <Jerry>\n\n- Tea: $2\n\nYour orders (https://shop.test/orders?u=Tom & <Jerry>)"
        )

    def test_absent_parts_stay_absent(self) -> None:
        assert render_dynamic(subject=None, html=None, text=None, preheader=None, data={}) == RenderedContent(
            None, None, None, None
        )
        only_text = render_dynamic(subject="", html=None, text="x", preheader=None, data={})
        assert (only_text.subject, only_text.html, only_text.text) == ("", None, "x")

    def test_explicit_text_is_not_replaced(self) -> None:
        result = render_dynamic(subject=None, html="<p>{{a}}</p>", text="", preheader=None, data={"a": 1})
        assert result.text == ""

    def test_subject_line_breaks_become_spaces(self) -> None:
        result = render_dynamic(
            subject="Hi {{name}}", html=None, text=None, preheader=None, data={"name": "x\r\nBcc: victim@example.test"}
        )
        assert result.subject == "Hi x Bcc: victim@example.test"

    @pytest.mark.parametrize(
        ("part", "kwargs"),
        [
            ("subject", {"subject": "{{#if a}}"}),
            ("html", {"html": "<p>{{/if}}</p>"}),
            ("text", {"text": "{{nope x}}"}),
            ("preheader", {"preheader": "{{"}),
        ],
    )
    def test_syntax_errors_name_the_part(self, part: str, kwargs: dict[str, str]) -> None:
        arguments: dict[str, str | None] = {"subject": None, "html": None, "text": None, "preheader": None}
        arguments.update(kwargs)
        with pytest.raises(TemplateRenderError) as caught:
            render_dynamic(**arguments, data={})
        assert caught.value.part == part
        assert str(caught.value).startswith(f"{part}: syntax error: ")

    def test_runaway_loops_are_stopped(self) -> None:
        data = {"a": list(range(200))}
        source = "{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}"  # 8 million steps
        with pytest.raises(TemplateRenderError, match=f"html: rendering took more than {MAX_STEPS} steps"):
            render_dynamic(subject=None, html=source, text=None, preheader=None, data=data)

    def test_huge_output_is_refused(self) -> None:
        data = {"big": "x" * 1_000_000, "n": list(range(11))}
        with pytest.raises(TemplateRenderError, match=f"longer than {MAX_OUTPUT_CHARS} characters"):
            render_dynamic(subject=None, html=None, text="{{#each n}}{{../big}}{{/each}}", preheader=None, data=data)

    def test_compiles_each_source_once(self) -> None:
        renderer.compiled.cache_clear()
        html = "<p>Hello {{name}}, unique source for the cache test</p>"
        for i in range(50):
            render_dynamic(subject="S {{i}}", html=html, text=None, preheader=None, data={"name": str(i), "i": i})
        info = renderer.compiled.cache_info()
        assert (info.misses, info.hits) == (2, 98)

    def test_a_thousand_personalizations_render_quickly(self) -> None:
        html = (
            "<html><body><h1>Hi {{insert first_name 'default=there'}}</h1>"
            "{{#each items}}<tr><td>{{name}}</td><td>{{formatDate shipped 'MMM D, YYYY'}}</td>"
            "{{#greaterThan qty 1}}<td>x{{qty}}</td>{{/greaterThan}}</tr>{{/each}}"
            "{{#if vip}}<p>VIP</p>{{else}}<p>Join</p>{{/if}}<a href='https://x.test/u/{{id}}'>Manage</a>"
            "</body></html>"
        ) * 5
        started = time.perf_counter()
        for i in range(1000):
            data = {
                "first_name": f"user{i}",
                "id": i,
                "vip": i % 2,
                "items": [{"name": f"item{k}", "qty": k, "shipped": "2024-05-01T10:00:00Z"} for k in range(5)],
            }
            result = render_dynamic(subject="Order for {{first_name}}", html=html, text=None, preheader=None, data=data)
            assert f"user{i}" in (result.text or "")
        assert time.perf_counter() - started < 10


class TestCheckSyntax:
    def test_valid_and_invalid(self) -> None:
        check_syntax("{{#each items}}{{this}}{{/each}}")
        with pytest.raises(TemplateRenderError) as caught:
            check_syntax("{{#each items}}")
        assert caught.value.part is None
        assert str(caught.value) == "syntax error: unclosed block {{#each}} at line 1, column 1"


class TestRenderLegacy:
    def test_plain_key_replacement_in_every_part(self) -> None:
        result = render_legacy(
            subject="Hi -name-",
            html="<p>Hi -name- & -city-</p>",
            text="Hi -name-",
            substitutions={"-name-": "<Ann>", "-city-": "Oslo"},
        )
        assert result == RenderedContent(
            subject="Hi <Ann>", html="<p>Hi <Ann> & Oslo</p>", text="Hi <Ann>", preheader=None
        )

    def test_handlebars_is_not_interpreted(self) -> None:
        result = render_legacy(subject=None, html="{{#if x}}{{name}}", text=None, substitutions={"{{name}}": "N"})
        assert (result.html, result.text) == ("{{#if x}}N", None)
