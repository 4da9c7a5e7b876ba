"""The Handlebars parser (D15): what is valid, what is refused and where, and the whitespace rules."""

from __future__ import annotations

from typing import Any

import pytest

from scaisend.templates.handlebars import MAX_NESTING, HandlebarsSyntaxError, parse
from scaisend.templates.interpreter import render


def run(source: str, **data: Any) -> str:
    return render(parse(source), data, escape=True)


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("source", "message"),
        [
            ("{{#if a}}x", "unclosed block {{#if}} at line 1, column 1"),
            ("a\n  {{#each items}}x{{/if}}", "{{/if}} does not match {{#each}} at line 2, column 19"),
            ("{{/if}}", "{{/if}} closes nothing at line 1, column 1"),
            ("{{else}}", "{{else}} outside a block at line 1, column 1"),
            ("{{#if a}}{{else}}{{else}}{{/if}}", "a second {{else}} in one block at line 1, column 18"),
            ("{{#if a}}{{else if b}}x", "unclosed block {{#if}} at line 1, column 1"),
            ("Hi {{name", "unclosed tag, expected '}}' at line 1, column 4"),
            ("{{{name}}", "unclosed tag, expected '}}}' at line 1, column 1"),
            ("{{}}", "empty tag {{}} at line 1, column 1"),
            ("{{shout name}}", "unknown helper 'shout' at line 1, column 1"),
            ("{{#shout name}}{{/shout}}", "unknown block helper 'shout' at line 1, column 1"),
            ("{{#if (shout a)}}{{/if}}", "unknown helper 'shout' in sub-expression at line 1, column 1"),
            ("{{if a}}", "if is a block helper, write {{#if …}} at line 1, column 1"),
            ("{{#if}}{{/if}}", "if takes 1 argument(s), got 0 at line 1, column 1"),
            ("{{#equals a}}{{/equals}}", "equals takes 2 argument(s), got 1 at line 1, column 1"),
            ("{{#and a}}{{/and}}", "and takes 2 or more argument(s), got 1 at line 1, column 1"),
            ("{{formatDate d}}", "formatDate takes 2 to 3 argument(s), got 1 at line 1, column 1"),
            ("{{> footer}}", "partials ({{> name}}) are not supported at line 1, column 1"),
            ("{{#each items as |item|}}{{/each}}", "block parameters (as |x|) are not supported at line 1, column 1"),
            ("{{{{raw}}}}{{{{/raw}}}}", "raw blocks {{{{…}}}} are not supported at line 1, column 1"),
            ("{{a..b}}", "invalid path 'a..b' at line 1, column 1"),
            ("{{#if (equals a b}}{{/if}}", "unclosed '(' at line 1, column 1"),
        ],
    )
    def test_is_refused_with_position(self, source: str, message: str) -> None:
        with pytest.raises(HandlebarsSyntaxError) as caught:
            parse(source)
        assert str(caught.value) == message

    def test_nesting_is_bounded(self) -> None:
        deep = "{{#if a}}" * (MAX_NESTING + 1) + "{{/if}}" * (MAX_NESTING + 1)
        with pytest.raises(HandlebarsSyntaxError, match="nested deeper"):
            parse(deep)
        ok = "{{#if a}}" * MAX_NESTING + "x" + "{{/if}}" * MAX_NESTING
        assert run(ok, a=1) == "x"


class TestSyntax:
    def test_comments_and_escaped_mustaches(self) -> None:
        assert run("a{{! short }}b{{!-- has }} inside --}}c \\{{name}}", name="x") == "abc {{name}}"

    def test_raw_forms(self) -> None:
        assert run("{{{v}}} {{& v}} {{v}}", v="<i>") == "<i> <i> &lt;i&gt;"

    def test_mustache_sections(self) -> None:
        assert run("{{#user}}{{name}}{{/user}}{{^user}}anon{{/user}}", user={"name": "Ann"}) == "Ann"
        assert run("{{#user}}{{name}}{{/user}}{{^user}}anon{{/user}}") == "anon"
        assert run("{{#items}}{{.}}{{/items}}{{#flag}}!{{/flag}}", items=[1, 2], flag=True) == "12!"

    def test_literals(self) -> None:
        assert run("{{#equals n -1.5}}y{{/equals}}{{#equals s 'it\\'s'}}!{{/equals}}", n=-1.5, s="it's") == "y!"
        assert run('{{insert x "say \\"hi\\""}}') == "say &quot;hi&quot;"

    def test_hash_after_positional(self) -> None:
        with pytest.raises(HandlebarsSyntaxError, match="positional argument after key=value"):
            parse('{{insert a default="x" b}}')


class TestWhitespace:
    def test_standalone_block_lines_disappear(self) -> None:
        source = "Items:\n{{#each items}}\n  - {{this}}\n{{/each}}\nDone\n"
        assert run(source, items=["a", "b"]) == "Items:\n  - a\n  - b\nDone\n"

    def test_standalone_else_and_comment(self) -> None:
        source = "{{#if a}}\nyes\n  {{else}}  \nno\n{{/if}}\n{{! note }}\nend"
        assert run(source, a=0) == "no\nend"

    def test_inline_tags_keep_their_line(self) -> None:
        assert run("<b>{{#if a}}x{{/if}}</b>\n", a=1) == "<b>x</b>\n"
        assert run("{{#if a}}{{#if a}}\nx\n{{/if}}{{/if}}", a=1) == "\nx\n"

    def test_tilde_strips_whitespace(self) -> None:
        assert run("a  {{~name~}}  \n b", name="N") == "aNb"
        assert run("<ul>\n  {{~#each l~}}\n  <li>{{.}}</li>\n  {{~/each~}}\n</ul>", l=[1]) == "<ul><li>1</li></ul>"

    def test_crlf_lines(self) -> None:
        assert run("{{#if a}}\r\nx\r\n{{/if}}\r\n", a=1) == "x\r\n"
