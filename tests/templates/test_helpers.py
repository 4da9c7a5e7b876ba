"""The D15 helper set, with the examples of SendGrid's "Using Handlebars" page, rendered through the public API."""

from __future__ import annotations

from typing import Any

import pytest

from scaisend.templates.renderer import render_dynamic


def html(source: str, **data: Any) -> str:
    rendered = render_dynamic(subject=None, html=source, text=None, preheader=None, data=data).html
    assert rendered is not None
    return rendered


class TestReplacement:
    def test_basic_and_deep_values(self) -> None:
        assert html("<p>Hello {{firstName}}</p>", firstName="Ben") == "<p>Hello Ben</p>"
        assert html("<p>Hello {{user.profile.firstName}}</p>", user={"profile": {"firstName": "Ben"}}) == (
            "<p>Hello Ben</p>"
        )
        assert html("<p>Hello {{user/profile/firstName}}</p>", user={"profile": {"firstName": "Ben"}}) == (
            "<p>Hello Ben</p>"
        )

    def test_missing_values_render_empty(self) -> None:
        assert html("<p>Hello {{user.profile.firstName}}</p>", user={"orderHistory": []}) == "<p>Hello </p>"
        assert html("[{{a.b.c}}][{{nothing}}][{{@index}}]") == "[][][]"

    def test_values_print_like_javascript(self) -> None:
        assert (
            html("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}", a=3, b=2.5, c=4.0, d=True, e=[1, "x", None], f={"k": 1})
            == "3 2.5 4 true 1,x, [object Object]"
        )

    def test_array_index_and_length(self) -> None:
        assert (
            html("{{items.[1].name}} {{items.0.name}} {{items.length}}", items=[{"name": "a"}, {"name": "b"}])
            == "b a 2"
        )


class TestIf:
    SOURCE = (
        "{{#if user.profile.male}}<p>Dear Sir</p>{{else if user.profile.female}}<p>Dear Madam</p>"
        "{{else}}<p>Dear Customer</p>{{/if}}"
    )

    @pytest.mark.parametrize(
        ("profile", "expected"),
        [
            ({"male": True}, "<p>Dear Sir</p>"),
            ({"female": True}, "<p>Dear Madam</p>"),
            ({}, "<p>Dear Customer</p>"),
        ],
    )
    def test_else_if_chain(self, profile: dict[str, bool], expected: str) -> None:
        assert html(self.SOURCE, user={"profile": profile}) == expected

    @pytest.mark.parametrize("value", [None, False, 0, "", []])
    def test_falsy_values(self, value: Any) -> None:
        assert html("{{#if v}}yes{{else}}no{{/if}}", v=value) == "no"

    @pytest.mark.parametrize("value", [True, 1, -1, "0", "false", [0], {}])
    def test_truthy_values(self, value: Any) -> None:
        assert html("{{#if v}}yes{{else}}no{{/if}}", v=value) == "yes"

    def test_missing_is_false(self) -> None:
        assert html("{{#if v}}yes{{/if}}") == ""


class TestUnless:
    def test_renders_when_false_and_reaches_root(self) -> None:
        source = (
            "{{#unless user.active}}<p>Warning! Your account is suspended, please call: "
            "{{@root.supportPhone}}</p>{{/unless}}"
        )
        assert html(source, user={"active": False}, supportPhone="1-800-555-5555") == (
            "<p>Warning! Your account is suspended, please call: 1-800-555-5555</p>"
        )
        assert html(source, user={"active": True}, supportPhone="x") == ""

    def test_else(self) -> None:
        assert html("{{#unless ok}}bad{{else}}good{{/unless}}", ok=1) == "good"


class TestEquals:
    SOURCE = (
        "{{#equals customerCode winningCode}}<p>You have a winning code.</p>{{else}}"
        "<p>You do not have a winning code.</p>{{/equals}}"
    )

    def test_equal_and_not(self) -> None:
        assert html(self.SOURCE, customerCode=12345, winningCode=12345) == "<p>You have a winning code.</p>"
        assert html(self.SOURCE, customerCode=12345, winningCode=54321) == "<p>You do not have a winning code.</p>"

    def test_literals_and_loose_numbers(self) -> None:
        assert html('{{#equals code "123"}}y{{else}}n{{/equals}}', code=123) == "y"
        assert html('{{#equals status "shipped"}}y{{else}}n{{/equals}}', status="shipped") == "y"
        assert html("{{#equals flag true}}y{{else}}n{{/equals}}", flag="true") == "n"
        assert html("{{#equals a b}}y{{else}}n{{/equals}}") == "y"  # both missing

    def test_not_equals(self) -> None:
        source = "{{#notEquals currentDate appointmentDate}}moved{{else}}same{{/notEquals}}"
        assert html(source, currentDate="2024-01-01", appointmentDate="2024-01-02") == "moved"
        assert html(source, currentDate="2024-01-01", appointmentDate="2024-01-01") == "same"


class TestAndOr:
    AND = (
        "{{#and favoriteFood favoriteDrink}}<p>Thank you for letting us know your dining preferences.</p>"
        "{{else}}<p>Please finish your dining preferences survey.</p>{{/and}}"
    )
    OR = (
        "{{#or isRunner isCyclist}}<p>We think you might enjoy a map of trails in your area.</p>{{else}}"
        "<p>Have you tried adventuring outdoors?</p>{{/or}}"
    )

    def test_and(self) -> None:
        assert html(self.AND, favoriteFood="Pizza", favoriteDrink="Soda").startswith("<p>Thank you")
        assert html(self.AND, favoriteFood="Pizza", favoriteDrink="").startswith("<p>Please finish")
        assert html("{{#and a b c}}y{{else}}n{{/and}}", a=1, b=1, c=0) == "n"

    def test_or(self) -> None:
        assert html(self.OR, isRunner=False, isCyclist=True).startswith("<p>We think")
        assert html(self.OR, isRunner=False).startswith("<p>Have you")

    def test_as_sub_expressions(self) -> None:
        assert html("{{#if (and a (or b c))}}y{{else}}n{{/if}}", a=1, c=1) == "y"
        assert html("{{#unless (equals a 1)}}y{{else}}n{{/unless}}", a=2) == "y"


class TestComparisons:
    def test_greater_than(self) -> None:
        source = (
            "{{#greaterThan scoreOne scoreTwo}}<p>Congratulations, you have the high score today!</p>"
            "{{else}}<p>You were close, but you didn't get the high score today.</p>{{/greaterThan}}"
        )
        assert html(source, scoreOne=100, scoreTwo=78) == "<p>Congratulations, you have the high score today!</p>"
        assert html(source, scoreOne=78, scoreTwo=100).startswith("<p>You were close")
        assert html(source, scoreOne=78, scoreTwo=78).startswith("<p>You were close")

    def test_less_than(self) -> None:
        source = "{{#lessThan balance 10}}low{{else}}ok{{/lessThan}}"
        assert html(source, balance=5) == "low"
        assert html(source, balance="5.5") == "low"  # numeric strings compare as numbers
        assert html(source, balance=10) == "ok"
        assert html(source) == "ok"  # missing does not compare

    def test_strings_compare_alphabetically(self) -> None:
        assert html('{{#greaterThan name "m"}}late{{else}}early{{/greaterThan}}', name="zoe") == "late"


class TestLength:
    def test_counts_items(self) -> None:
        assert html("<p>You have {{length cartItems}} items in your cart.</p>", cartItems=["a", "b", "c"]) == (
            "<p>You have 3 items in your cart.</p>"
        )
        assert html("{{length missing}}|{{length obj}}|{{length word}}", obj={"a": 1}, word="four") == "0|1|4"

    def test_in_a_condition(self) -> None:
        source = "{{#greaterThan (length cartItems) 0}}{{length cartItems}} items{{else}}empty{{/greaterThan}}"
        assert html(source, cartItems=[1, 2]) == "2 items"
        assert html(source, cartItems=[]) == "empty"


class TestEach:
    def test_documented_order_history(self) -> None:
        source = (
            "<ol>\n  {{#each user.orderHistory}}\n  <li>You ordered: {{this.item}} on: {{this.date}}</li>\n"
            "  {{/each}}\n</ol>"
        )
        orders = [{"date": "2/1/2018", "item": "shoes"}, {"date": "1/4/2017", "item": "hat"}]
        assert html(source, user={"orderHistory": orders}) == (
            "<ol>\n  <li>You ordered: shoes on: 2/1/2018</li>\n  <li>You ordered: hat on: 1/4/2017</li>\n</ol>"
        )

    def test_index_first_last_and_this(self) -> None:
        source = "{{#each items}}{{#if @first}}[{{/if}}{{@index}}={{this}}{{#if @last}}]{{else}},{{/if}}{{/each}}"
        assert html(source, items=["a", "b", "c"]) == "[0=a,1=b,2=c]"

    def test_objects_give_key(self) -> None:
        assert html("{{#each prices}}{{@key}}:{{.}} {{/each}}", prices={"tea": 2, "cake": 3}) == "tea:2 cake:3 "

    def test_else_when_empty_or_missing(self) -> None:
        assert html("{{#each items}}x{{else}}No items{{/each}}", items=[]) == "No items"
        assert html("{{#each items}}x{{else}}No items{{/each}}") == "No items"

    def test_nested_each_and_if_with_parent_access(self) -> None:
        source = (
            "{{#each orders}}{{id}}:{{#each lines}}{{#if shipped}}{{sku}}@{{../id}}/{{@root.shop}}"
            "{{else}}({{sku}} pending){{/if}}{{/each}};{{/each}}"
        )
        orders = [
            {"id": "A", "lines": [{"sku": "s1", "shipped": True}, {"sku": "s2"}]},
            {"id": "B", "lines": [{"sku": "s3", "shipped": True}]},
        ]
        assert html(source, orders=orders, shop="Shop") == "A:s1@A/Shop(s2 pending);B:s3@B/Shop;"

    def test_escapes_items(self) -> None:
        assert html("{{#each tags}}{{this}} {{/each}}", tags=["<b>", "a&b"]) == "&lt;b&gt; a&amp;b "


class TestWith:
    def test_changes_context(self) -> None:
        source = "{{#with user.profile}}<p>Hello {{firstName}} from {{../company}}</p>{{/with}}"
        assert html(source, user={"profile": {"firstName": "Ben"}}, company="ACME") == "<p>Hello Ben from ACME</p>"
        assert html("{{#with user}}[{{company}}]{{/with}}", user={"name": "Ann"}, company="ACME") == "[]"

    def test_else_when_missing(self) -> None:
        assert html("{{#with user}}{{name}}{{else}}nobody{{/with}}") == "nobody"


class TestFormatDate:
    DATA: dict[str, Any] = {
        "timeStamp": "2020-01-01T23:00:00.000Z",
        "dateFormat": "MMMM DD, YYYY h:mm:ss A",
        "timezoneOffset": "-0800",
    }

    def test_documented_example(self) -> None:
        assert html("<p>Join us {{formatDate timeStamp dateFormat}}</p>", **self.DATA) == (
            "<p>Join us January 01, 2020 11:00:00 PM</p>"
        )

    def test_with_a_timezone_offset(self) -> None:
        assert html("<p>Join us {{formatDate timeStamp dateFormat timezoneOffset}}</p>", **self.DATA) == (
            "<p>Join us January 01, 2020 3:00:00 PM</p>"
        )

    def test_literal_format(self) -> None:
        assert html('{{formatDate when "YYYY-MM-DD"}}', when="2024-02-29T10:00:00+02:00") == "2024-02-29"
        assert html('{{formatDate when "YYYY-MM-DD"}}', when=1_700_000_000) == "2023-11-14"

    def test_unparseable_renders_empty(self) -> None:
        assert html('[{{formatDate when "YYYY"}}][{{formatDate missing "YYYY"}}]', when="soon") == "[][]"


class TestInsert:
    def test_documented_default(self) -> None:
        source = (
            '<p>Hello {{insert name "default=Customer"}}! Thank you for contacting us about '
            '{{insert businessName "default=your business"}}.</p>'
        )
        assert html(source, name="Ben") == "<p>Hello Ben! Thank you for contacting us about your business.</p>"
        assert html(source, name="", businessName="Acme") == (
            "<p>Hello Customer! Thank you for contacting us about Acme.</p>"
        )

    def test_other_default_forms_and_escaping(self) -> None:
        assert html('{{insert name "Friend"}} {{insert name default="Pal"}} [{{insert name}}]') == "Friend Pal []"
        assert html('{{insert name "default=A&B"}}') == "A&amp;B"
