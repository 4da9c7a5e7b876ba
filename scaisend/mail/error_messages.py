"""SendGrid's mail-send error shape (docs/sendgrid-compatibility.md: ``Mail/errors.md``) and the translation of schema errors (wrong
JSON type, missing field) into SendGrid's sentences.

Every error is a :class:`~scaisend.errors.FieldError` whose ``field`` is a dotted path with numeric indexes
(``personalizations.0.to.1.email``) and whose ``help`` is SendGrid's errors page with the anchor of the field
(``...errors.html#message.personalizations.to``). Schema errors are matched against :data:`RULES` by path; anything
unmatched keeps pydantic's wording. The value rules and their sentences are in :mod:`scaisend.mail.validation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from scaisend.errors import FieldError

HELP_BASE = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
RECIPIENT_ERRORS_ANCHOR = "message.recipient-errors"
ADDRESS_EXAMPLE = (
    'e.g. {"email": "example@example.com"} or {"email": "example@example.com", "name": "Example Recipient"}'
)
SEND_AT_INTEGER = (
    "The send_at parameter is expecting a Unix timestamp as an integer. We will send immediately if you "
    "include a send_at timestamp that is in the past."
)

Path = tuple[str | int, ...]


def field_path(loc: Path) -> str | None:
    return ".".join(str(part) for part in loc) or None


def help_url(field: str | None, anchor: str | None = None) -> str | None:
    """The errors page with the anchor SendGrid uses: the field without indexes or a trailing ``email``."""
    if anchor is None:
        if field is None:
            return None
        parts = [p for p in field.split(".") if not p.isdigit()]
        if len(parts) > 1 and parts[-1] == "email":
            parts.pop()
        anchor = "message." + ".".join(parts)
    return f"{HELP_BASE}#{anchor}"


def error(message: str, loc: Path | str | None, anchor: str | None = None) -> FieldError:
    """One SendGrid-shaped error for the field at ``loc`` (a path tuple or an already dotted string)."""
    field = loc if isinstance(loc, str) or loc is None else field_path(loc)
    return FieldError(message, field, help_url(field, anchor))


# --- schema errors ---------------------------------------------------------------------------------------------------
ANY_INDEX = "#"  # in a rule's pattern: any list index
ANY_KEY = "*"  # any object key


@dataclass(frozen=True)
class Rule:
    """``pattern`` matches a ``loc`` element by element; ``missing_only`` limits it to absent fields; ``trim`` drops
    that many trailing elements from the reported field (the key of a headers object)."""

    pattern: tuple[str, ...]
    message: str | Callable[[ErrorDetails], str]
    missing_only: bool = False
    trim: int = 0

    def matches(self, loc: Path, kind: str) -> bool:
        if len(loc) != len(self.pattern) or (self.missing_only and kind != "missing"):
            return False
        for part, want in zip(loc, self.pattern, strict=True):
            if want == ANY_INDEX and not isinstance(part, int):
                return False
            if want not in (ANY_INDEX, ANY_KEY) and part != want:
                return False
        return True


def _given(detail: ErrorDetails) -> str:
    return str(detail.get("input"))


def _nested(prefix: tuple[str, ...], rules: Sequence[Rule]) -> list[Rule]:
    return [Rule((*prefix, *r.pattern), r.message, r.missing_only, r.trim) for r in rules]


def _address_rules(label: str, *, required: bool = False) -> list[Rule]:
    """An address object (``from``, ``reply_to``), patterns relative to it."""
    rules = [
        Rule(("email",), f"The {label} email does not contain a valid address."),
        Rule(("name",), f"The {label} name must be a string."),
    ]
    if required:
        rules.append(
            Rule(
                (),
                f"The {label} object must be provided for every email send. It is an object that "
                f"requires the email parameter, but may also contain a name parameter. "
                f"{ADDRESS_EXAMPLE}",
                missing_only=True,
            )
        )
    rules.append(
        Rule(
            (),
            f"The {label} object must at least have an email parameter with a valid email address and "
            f"may also contain a name parameter. {ADDRESS_EXAMPLE}",
        )
    )
    return rules


def _recipients_rules(label: str) -> list[Rule]:
    """A list of address objects (``to``, ``cc``, ``bcc``, ``reply_to_list``), patterns relative to the list."""
    return [
        Rule((ANY_INDEX, "email"), "Does not contain a valid address."),
        Rule((ANY_INDEX, "name"), "The name must be a string."),
        Rule(
            (ANY_INDEX,),
            f"Each {label} object must at least have an email address and may also contain a name. {ADDRESS_EXAMPLE}",
        ),
        Rule(
            (),
            f"The {label} array, when used, must at least have an email parameter with a valid email address "
            f"and it may also contain a name parameter. {ADDRESS_EXAMPLE}",
        ),
    ]


def _settings_rules(prefix: str, names: Sequence[str]) -> list[Rule]:
    """``<prefix>.<name>.enable`` must be a boolean; ``<prefix>.<name>`` and ``<prefix>`` must be objects."""
    return [
        *[
            Rule((prefix, n, "enable"), f"The {n.replace('_', ' ')} enable param should be a boolean value.")
            for n in names
        ],
        Rule((prefix, ANY_KEY, ANY_KEY), lambda d: f"The {'.'.join(map(str, d['loc']))} setting has the wrong type."),
        Rule((prefix, ANY_KEY), lambda d: f"The {prefix}.{d['loc'][-1]} setting must be an object."),
        Rule((prefix,), f"The {prefix} parameter must be an object."),
    ]


_HEADERS = [
    Rule((ANY_KEY,), "The header values must be strings.", trim=1),
    Rule((), "The headers must be an object of header names and string values."),
]
_CUSTOM_ARGS = [
    Rule((ANY_KEY,), "All values of custom arguments object must be strings", trim=1),
    Rule((), "custom_args must be an object of key/value pairs, where the values are all strings."),
]
_SUBSTITUTIONS = [
    Rule(
        (ANY_KEY,),
        "The substitution values must be an object of key/value pairs, where the values are all strings.",
        trim=1,
    ),
    Rule((), "The substitution values must be an object of key/value pairs, where the values are all strings."),
]
P = ("personalizations", ANY_INDEX)

RULES: tuple[Rule, ...] = (
    Rule((), "The request body must be a JSON object."),
    Rule(("personalizations",), "You must have at least one personalization.", missing_only=True),
    Rule(("personalizations",), "The personalizations field must be an array of personalization objects."),
    Rule(P, "Each personalization must be an object with at least a to array."),
    Rule((*P, "to"), "The to parameter is required for all personalization objects.", missing_only=True),
    *_nested((*P, "to"), _recipients_rules("to")),
    *_nested((*P, "cc"), _recipients_rules("cc")),
    *_nested((*P, "bcc"), _recipients_rules("bcc")),
    *_nested((*P, "from"), _address_rules("from")),
    Rule((*P, "subject"), "The subject of your email must be a string at least one character in length."),
    *_nested((*P, "headers"), _HEADERS),
    *_nested((*P, "substitutions"), _SUBSTITUTIONS),
    Rule((*P, "dynamic_template_data"), "dynamic_template_data must be an object."),
    *_nested((*P, "custom_args"), _CUSTOM_ARGS),
    Rule((*P, "send_at"), SEND_AT_INTEGER),
    *_nested(("from",), _address_rules("from", required=True)),
    *_nested(("reply_to",), _address_rules("reply_to")),
    *_nested(("reply_to_list",), _recipients_rules("reply_to_list")),
    Rule(("subject",), "The subject of your email must be a string at least one character in length."),
    Rule(
        ("content", ANY_INDEX, "type"),
        "A content type is required, this tells email clients how to display the email.",
        missing_only=True,
    ),
    Rule(("content", ANY_INDEX, "type"), "Your content type must be a string with length of at least one character."),
    Rule(
        ("content", ANY_INDEX, "value"),
        "A content value is required, this is the content of the email you are sending.",
        missing_only=True,
    ),
    Rule(("content", ANY_INDEX, "value"), "The content value must be a string at least one character in length."),
    Rule(("content", ANY_INDEX), "Each content block must be an object with a type and a value."),
    Rule(("content",), "The content param must be an array of content blocks."),
    Rule(("attachments",), "The attachments must be an array of attachment objects."),
    Rule(("attachments", ANY_INDEX), "Each attachment must be an object with at least content and filename."),
    Rule(
        ("attachments", ANY_INDEX, "content"),
        "The attachment content must be a string at least one character in length.",
    ),
    Rule(("attachments", ANY_INDEX, "filename"), "filename is required.", missing_only=True),
    Rule(("attachments", ANY_INDEX, "filename"), "The filename of your attachment must be a string."),
    Rule(
        ("attachments", ANY_INDEX, "type"), "The attachment type must be a string and at least one character in length."
    ),
    Rule(
        ("attachments", ANY_INDEX, "disposition"),
        lambda d: (
            f'The disposition of your attachment can be either "inline" or "attachment". You provided {_given(d)}.'
        ),
    ),
    Rule(
        ("attachments", ANY_INDEX, "content_id"),
        lambda d: f"The content ID of your attachment must be a string. You provided {_given(d)}.",
    ),
    Rule(("template_id",), lambda d: f"The template ID must be a string, you provided {_given(d)}."),
    *_nested(("headers",), _HEADERS),
    Rule(("categories", ANY_INDEX), "Categories must be an array of strings."),
    Rule(("categories",), "Categories must be an array of strings."),
    *_nested(("custom_args",), _CUSTOM_ARGS),
    Rule(("send_at",), SEND_AT_INTEGER),
    Rule(("batch_id",), "The batch_id must be a string."),
    Rule(("asm", "group_id"), "The ASM group ID must be an integer."),
    Rule(("asm", "groups_to_display", ANY_INDEX), "The ASM Group IDs to display must be an array of integers.", trim=1),
    Rule(("asm", "groups_to_display"), "The ASM Group IDs to display must be an array of integers."),
    Rule(("asm",), "The asm parameter must be an object with an integer group_id."),
    Rule(("ip_pool_name",), "The name of your IP pool must be a string."),
    Rule(("mail_settings", "footer", "html"), "The text/html version of your footer should be a string."),
    Rule(("mail_settings", "footer", "text"), "The text/plain version of your footer should be a string."),
    *_settings_rules(
        "mail_settings",
        (
            "bypass_list_management",
            "bypass_spam_management",
            "bypass_bounce_management",
            "bypass_unsubscribe_management",
            "footer",
            "sandbox_mode",
        ),
    ),
    Rule(
        ("tracking_settings", "click_tracking", "enable_text"),
        "The click tracking enable text must be a boolean value.",
    ),
    Rule(("tracking_settings", "ganalytics", "enable"), "The Google Analytics enable param must be a boolean value."),
    Rule(
        ("tracking_settings", "ganalytics", ANY_KEY),
        lambda d: f"The Google Analytics {d['loc'][-1]} must be a string value.",
    ),
    Rule(
        ("tracking_settings", "open_tracking", "substitution_tag"),
        "The open tracking substitution tag must be a string.",
    ),
    Rule(
        ("tracking_settings", "subscription_tracking", "substitution_tag"),
        "The subscription tracking substitution tag must be a string value.",
    ),
    Rule(
        ("tracking_settings", "subscription_tracking", "html"),
        "The subscription tracking unsubscribe content for text/html messages must be a string.",
    ),
    Rule(
        ("tracking_settings", "subscription_tracking", "text"),
        "The subscription tracking unsubscribe content for text/plain messages must be a string.",
    ),
    *_settings_rules("tracking_settings", ("click_tracking", "open_tracking", "subscription_tracking")),
)


def translate(exc: ValidationError) -> list[FieldError]:
    """The schema errors of a request as SendGrid errors, in the order pydantic found them, without repeats."""
    found: list[FieldError] = []
    for detail in exc.errors(include_url=False):
        loc: Path = tuple(detail["loc"])
        rule = next((r for r in RULES if r.matches(loc, detail["type"])), None)
        if rule is None:
            item = error(str(detail.get("msg", "Invalid value")), loc)
        else:
            text = rule.message(detail) if callable(rule.message) else rule.message
            item = error(text, loc[: len(loc) - rule.trim])
        if item not in found:
            found.append(item)
    return found
