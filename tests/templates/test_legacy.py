"""Legacy substitutions and <%body%>/<%subject%> (D15: plain key replacement)."""

from __future__ import annotations

from scaisend.templates.legacy import SUBJECT_TAG, fill_legacy_template, substitute


class TestSubstitute:
    def test_replaces_every_occurrence_of_any_key_style(self) -> None:
        text = "Hi -name-, your code is %code%; bye -name- ({{city}})"
        assert substitute(text, {"-name-": "Ann", "%code%": "42", "{{city}}": "Oslo"}) == (
            "Hi Ann, your code is 42; bye Ann (Oslo)"
        )

    def test_longest_key_wins_and_values_are_not_substituted_again(self) -> None:
        assert substitute("-name- -name_full-", {"-name": "X", "-name_full-": "Ann Lee", "-name-": "-name_full-"}) == (
            "-name_full- Ann Lee"
        )

    def test_values_are_not_escaped_and_missing_keys_stay(self) -> None:
        assert substitute("<p>:html: :other:</p>", {":html:": "<b>&</b>"}) == "<p><b>&</b> :other:</p>"
        assert substitute("x", {}) == "x"
        assert substitute("a.b", {".": "!"}) == "a!b"  # keys are literal, not patterns


class TestFillLegacyTemplate:
    def test_body_and_subject_tags(self) -> None:
        assert fill_legacy_template("<div>Header</div><%body%><div>Footer</div>", content="<p>Hi</p>") == (
            "<div>Header</div><p>Hi</p><div>Footer</div>"
        )
        assert fill_legacy_template("[ACME] <%subject%>", content="Your order", tag=SUBJECT_TAG) == "[ACME] Your order"

    def test_missing_parts(self) -> None:
        assert fill_legacy_template(None, content="<p>Hi</p>") == "<p>Hi</p>"
        assert fill_legacy_template("<%body%>!", content=None) == "!"
