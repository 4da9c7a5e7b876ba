"""The rules of ``POST /v3/mail/send`` (docs/sending.md; docs/sendgrid-compatibility.md), every one checked before the 202 and
reported in SendGrid's shape.

- :func:`decode_body`: bytes → JSON (415 for invalid UTF-8, 400 for invalid JSON);
- :func:`parse_request`: JSON → :class:`MailSendRequest`, or every JSON-type error at once;
- :func:`check_request`: every value rule the request alone decides (counts, sizes, empty strings, addresses,
  duplicates, content, attachments, headers, categories, custom_args, send_at), all reported together;
- :func:`check_references`: what needs the tenant's rows (template and its active version, subject, batch, ASM
  groups), given what the service looked up.

A request with JSON-type errors gets those (all of them); one whose types are right gets every value error at once.
Addresses are checked with email-validator's syntax rules (no DNS). Special-use domains are refused (``localhost``,
``.local``, ``.invalid``, ``.onion``, ``.arpa``) except ``.test``, which local setups and test MXs use.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ValidationError

from scaisend.errors import FieldError, SendGridError
from scaisend.mail.error_messages import RECIPIENT_ERRORS_ANCHOR, SEND_AT_INTEGER, Path, error, translate
from scaisend.mail.schemas import Attachment, EmailAddress, MailSendRequest, Personalization

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000  # per to/cc/bcc list and in the whole request
MAX_ATTACHMENTS = 10
# Issue 9 finding 8 (D49): each personalization becomes its own message carrying every attachment, so one 20 MB
# request with 1000 personalizations was 20 GB of mail to store and send. Decoded attachment bytes times the number
# of personalizations must stay within this.
MAX_ATTACHMENT_BYTES_ACROSS_PERSONALIZATIONS = 50 * 1024 * 1024
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_GROUPS_TO_DISPLAY = 25
MAX_SUBSTITUTIONS = 10_000
MAX_SUBSTITUTIONS_BYTES = 10_000  # keys and values, UTF-8 (SendGrid's documented limit; bounds the legacy pattern)
MAX_SUBJECT_LENGTH = 1000
MAX_HEADER_VALUE_LENGTH = 2000  # the stdlib's header folding is slow and superlinear on long non-ASCII values
MAX_NAME_LENGTH = 255
MAX_FILENAME_LENGTH = 255
MAX_EMAIL_LENGTH = 320
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SCHEDULE_AHEAD = timedelta(hours=72)
CONTENT_TYPES = ("text/plain", "text/html")
TEMPLATE_PREFIX = "d-"
# SendGrid's reserved headers (errors.md) plus the ones ScaiSend sets itself on every message.
RESERVED_HEADERS: frozenset[str] = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
        "sender",
        "date",
        "message-id",
        "mime-version",
        "content-disposition",
        "return-path",
        "x-scaisend-message-id",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without space and colon (RFC 5322 ftext)
_CRLF = re.compile(r"[\r\n]")
_CRLF_OR_SEMICOLON = re.compile(r"[\r\n;]")
SUBJECT_EMPTY = "The subject of your email must be a string at least one character in length."


# --- decoding and schema ---------------------------------------------------------------------------------------------
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_body(raw: bytes) -> Any:
    """The JSON of a request body: 415 when it is not UTF-8, 400 when it is not JSON (SendGrid's shape)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SendGridError([FieldError("Invalid UTF8 in request")], status_code=415) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise SendGridError([FieldError(f"Invalid JSON in request body: {exc}")]) from None
    except RecursionError:  # the C decoder recurses per nesting level: "[" * 100000
        raise SendGridError([FieldError("Invalid JSON in request body: nested too deeply")]) from None


def parse_model(model: type[ModelT], raw: Any) -> ModelT:
    """``raw`` as ``model``, or a 400 :class:`SendGridError` listing every schema error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SendGridError(translate(exc)) from None


def parse_request(raw: Any) -> MailSendRequest:
    return parse_model(MailSendRequest, raw)


# --- value rules -----------------------------------------------------------------------------------------------------
def address_problem(email: str) -> str | None:
    """Why ``email`` is not a usable address, or None."""
    if len(email) > MAX_EMAIL_LENGTH:
        return f"The email exceeds the maximum total length of {MAX_EMAIL_LENGTH} characters"
    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return "Does not contain a valid address."
    return None


def _check_address(address: EmailAddress, loc: Path, errors: list[FieldError], label: str = "") -> None:
    problem = address_problem(address.email)
    if problem is not None:
        if label and problem.startswith("Does not"):
            problem = f"The {label} email does not contain a valid address."
        errors.append(error(problem, (*loc, "email")))
    if address.name is not None and len(address.name) > MAX_NAME_LENGTH:
        errors.append(error(f"The name may be at most {MAX_NAME_LENGTH} characters.", (*loc, "name")))
    elif address.name is not None and _CRLF.search(address.name):
        errors.append(error("The name cannot contain CRLF characters.", (*loc, "name")))


def _check_subject(subject: str | None, loc: Path, errors: list[FieldError]) -> None:
    if subject is None:
        return
    if not subject:
        errors.append(error(SUBJECT_EMPTY, loc))
    elif len(subject) > MAX_SUBJECT_LENGTH:
        errors.append(error(f"The subject may be at most {MAX_SUBJECT_LENGTH} characters.", loc))


def _check_headers(headers: Mapping[str, str] | None, loc: Path, errors: list[FieldError]) -> None:
    seen: set[str] = set()
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if not _HEADER_NAME.match(name):
            errors.append(
                error(f"Header keys cannot contain non-ASCII characters or empty spaces. You provided {name!r}.", loc)
            )
        elif lowered in RESERVED_HEADERS:
            errors.append(error(f"Header can not be one of the reserved keys. You provided {name}.", loc))
        elif lowered in seen:
            errors.append(error(f"The headers cannot contain duplicate keys. You provided {name} more than once.", loc))
        if _CRLF.search(value):
            errors.append(error(f"The value of the {name} header cannot contain CRLF characters.", loc))
        elif len(value) > MAX_HEADER_VALUE_LENGTH:
            errors.append(
                error(f"The value of the {name} header may be at most {MAX_HEADER_VALUE_LENGTH} characters.", loc)
            )
        seen.add(lowered)


def _check_send_at(send_at: int | None, loc: Path, now: datetime, errors: list[FieldError]) -> None:
    if send_at is None:
        return
    if send_at < 0:
        errors.append(error(SEND_AT_INTEGER, loc))
    elif send_at > (now + MAX_SCHEDULE_AHEAD).timestamp():
        errors.append(error("Scheduling more than 72 hours in advance is forbidden.", loc))


def _custom_args_size(top: Mapping[str, str] | None, own: Mapping[str, str] | None) -> int:
    merged = {**(top or {}), **(own or {})}
    return len(json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode()) if merged else 0


def _substitutions_size(substitutions: Mapping[str, str] | None) -> int:
    return sum(
        len(k.encode("utf-8", "surrogatepass")) + len(v.encode("utf-8", "surrogatepass"))
        for k, v in (substitutions or {}).items()
    )


def _check_recipient_lists(person: Personalization, loc: Path, errors: list[FieldError]) -> None:
    if not person.to:
        errors.append(error("The to parameter is required for all personalization objects.", (*loc, "to")))
    for name in ("to", "cc", "bcc"):
        given = getattr(person, name) or []
        if len(given) > MAX_RECIPIENTS:
            errors.append(
                error(
                    f"The {name} array may contain at most {MAX_RECIPIENTS} recipients. You provided {len(given)}.",
                    (*loc, name),
                )
            )
    seen: set[str] = set()
    i = loc[-1]
    for name, j, address in person.recipients():
        _check_address(address, (*loc, name, j), errors)
        key = address.email.strip().lower()
        if key in seen:
            errors.append(
                error(
                    f"Each email address in the personalization block should be unique between to, cc, and bcc. We "
                    f"found the first duplicate instance of [{address.email}] in the personalizations.{i}.{name} field.",
                    loc,
                    RECIPIENT_ERRORS_ANCHOR,
                )
            )
        seen.add(key)


def _check_personalization(
    mail: MailSendRequest, i: int, person: Personalization, now: datetime, errors: list[FieldError]
) -> None:
    loc: Path = ("personalizations", i)
    _check_recipient_lists(person, loc, errors)
    if person.from_ is not None:
        _check_address(person.from_, (*loc, "from"), errors, "from")
    _check_subject(person.subject, (*loc, "subject"), errors)
    _check_headers(person.headers, (*loc, "headers"), errors)
    if person.substitutions is not None and len(person.substitutions) > MAX_SUBSTITUTIONS:
        errors.append(error("You are limited to 10,000 substitutions.", (*loc, "substitutions")))
    elif _substitutions_size(person.substitutions) > MAX_SUBSTITUTIONS_BYTES:
        errors.append(
            error(
                "The total collective size of your substitutions may not exceed 10,000 bytes per personalization "
                "object.",
                (*loc, "substitutions"),
            )
        )
    if _custom_args_size(mail.custom_args, person.custom_args) > MAX_CUSTOM_ARGS_BYTES:
        errors.append(
            error(
                "The combined size of both global and personalization custom arguments may not exceed "
                "10,000 bytes per personalization.",
                (*loc, "custom_args"),
            )
        )
    _check_send_at(person.send_at, (*loc, "send_at"), now, errors)


def _check_personalizations(mail: MailSendRequest, now: datetime, errors: list[FieldError]) -> None:
    count = len(mail.personalizations)
    if count == 0:
        errors.append(error("You must have at least one personalization.", ("personalizations",)))
    elif count > MAX_PERSONALIZATIONS:
        errors.append(
            error(
                f"The personalization block is limited to {MAX_PERSONALIZATIONS} personalizations per API "
                f"request. You have provided {count} personalizations. Please consider splitting this "
                f"into multiple requests and resending your request.",
                ("personalizations",),
            )
        )
        return  # the request is refused anyway; do not walk thousands of entries
    for i, person in enumerate(mail.personalizations):
        _check_personalization(mail, i, person, now, errors)
    total = sum(len(p.recipients()) for p in mail.personalizations)
    if total > MAX_RECIPIENTS:
        errors.append(
            error(
                f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) per request. "
                f"You provided {total}.",
                ("personalizations",),
            )
        )


def _check_content(mail: MailSendRequest, errors: list[FieldError]) -> None:
    if mail.template_id is not None:
        if not mail.template_id.startswith(TEMPLATE_PREFIX):
            errors.append(
                error(
                    f'The template_id must be a dynamic template id starting with "d-". You provided '
                    f"{mail.template_id}.",
                    ("template_id",),
                )
            )
        if mail.content:
            errors.append(
                error(
                    "The content and template_id parameters cannot be used together: send either "
                    "content or a template.",
                    ("content",),
                )
            )
        return
    if mail.content is None:
        errors.append(
            error(
                "The content param is required unless you are using a transactional template and have "
                "defined a template_ID.",
                ("content",),
            )
        )
        return
    if not mail.content:
        errors.append(
            error(
                "There must be at least one defined content block. We typically suggest both text/plain "
                "and text/html blocks are included, but only one block is required.",
                ("content",),
            )
        )
    kinds = [block.type.lower() for block in mail.content]
    for i, block in enumerate(mail.content):
        if not block.value:
            errors.append(
                error("The content value must be a string at least one character in length.", ("content", i, "value"))
            )
        if not block.type:
            errors.append(
                error(
                    "Your content type must be a string with length of at least one character.", ("content", i, "type")
                )
            )
        elif kinds[i] not in CONTENT_TYPES:
            errors.append(
                error(
                    f"The content type must be text/plain or text/html. You provided {block.type}.",
                    ("content", i, "type"),
                )
            )
        elif kinds[i] in kinds[:i]:
            errors.append(
                error(
                    f"Each content type may only be given once. You provided {kinds[i]} more than once.",
                    ("content", i, "type"),
                )
            )
    if "text/plain" in kinds and "text/html" in kinds and kinds.index("text/html") < kinds.index("text/plain"):
        errors.append(
            error(
                "Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in "
                "your email: text/plain needs to be first, followed by text/html, followed by any other "
                "content.",
                ("content", kinds.index("text/html"), "value"),
            )
        )


def is_base64(value: str) -> bool:
    try:
        base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_attachment(i: int, attachment: Attachment, errors: list[FieldError]) -> None:
    loc: Path = ("attachments", i)
    if not attachment.content:
        errors.append(
            error("The attachment content must be a string at least one character in length.", (*loc, "content"))
        )
    elif not is_base64(attachment.content):
        errors.append(error("The attachment content must be base64 encoded.", (*loc, "content")))
    if not attachment.filename:
        errors.append(error("filename is required.", (*loc, "filename")))
    elif len(attachment.filename) > MAX_FILENAME_LENGTH:
        errors.append(
            error(
                f"The filename of your attachment may be at most {MAX_FILENAME_LENGTH} characters.", (*loc, "filename")
            )
        )
    elif _CRLF_OR_SEMICOLON.search(attachment.filename):
        errors.append(
            error("The filename of your attachment cannot contain ';' or CRLF characters.", (*loc, "filename"))
        )
    if attachment.type is not None and (not attachment.type or _CRLF_OR_SEMICOLON.search(attachment.type)):
        errors.append(
            error(
                "The attachment type must be a MIME type of at least one character, without ';' or CRLF characters.",
                (*loc, "type"),
            )
        )
    if attachment.content_id is not None and _CRLF_OR_SEMICOLON.search(attachment.content_id):
        errors.append(
            error("The content ID of your attachment cannot contain ';' or CRLF characters.", (*loc, "content_id"))
        )
    if attachment.disposition == "inline" and not attachment.content_id:
        errors.append(
            error("The content_id is required when the disposition of the attachment is inline.", (*loc, "content_id"))
        )


def _check_attachments(attachments: list[Attachment] | None, errors: list[FieldError]) -> None:
    if attachments and len(attachments) > MAX_ATTACHMENTS:
        errors.append(
            error(
                f"There is a limit of {MAX_ATTACHMENTS} attachments per email. You provided {len(attachments)}.",
                ("attachments",),
            )
        )
    for i, attachment in enumerate(attachments or []):
        _check_attachment(i, attachment, errors)


def _decoded_size(content: str) -> int:
    """Bytes the base64 ``content`` decodes to (line breaks and padding not counted), without decoding it."""
    text = content.strip()
    digits = len(text) - text.count("\n") - text.count("\r")
    return digits * 3 // 4 - (len(text) - len(text.rstrip("=")))


def _check_attachment_volume(mail: MailSendRequest, errors: list[FieldError]) -> None:
    """Attachments are copied into every personalization's message: cap the total."""
    decoded = sum(_decoded_size(a.content or "") for a in mail.attachments or [])
    copies = len(mail.personalizations or [])
    if decoded and decoded * copies > MAX_ATTACHMENT_BYTES_ACROSS_PERSONALIZATIONS:
        limit_mb = MAX_ATTACHMENT_BYTES_ACROSS_PERSONALIZATIONS // (1024 * 1024)
        errors.append(
            error(
                f"The attachments are sent with each of the {copies} personalizations; their total size times the "
                f"number of personalizations may be at most {limit_mb} MB. Send fewer personalizations per request "
                "or link to large files.",
                ("attachments",),
            )
        )


def _check_categories(categories: list[str] | None, errors: list[FieldError]) -> None:
    if categories and len(categories) > MAX_CATEGORIES:
        errors.append(
            error(
                f"There is a limit of {MAX_CATEGORIES} categories for each email that is sent. You "
                f"provided {len(categories)} categories.",
                ("categories",),
            )
        )
    seen: set[str] = set()
    for i, category in enumerate(categories or []):
        if len(category) > MAX_CATEGORY_LENGTH:
            errors.append(
                error(
                    f"Each category must not be longer than {MAX_CATEGORY_LENGTH} characters. "
                    f"{category[:40]}... exceeds this limit",
                    ("categories", i),
                )
            )
        elif not category.isascii():
            errors.append(error("Categories can not contain non-ASCII characters.", ("categories", i)))
        elif category in seen:
            errors.append(
                error(
                    f"The categories must be a unique list, and you have included {category} more than once.",
                    ("categories", i),
                )
            )
        seen.add(category)


def _check_settings(mail: MailSendRequest, errors: list[FieldError]) -> None:
    if mail.asm is not None and len(mail.asm.groups_to_display or []) > MAX_GROUPS_TO_DISPLAY:
        errors.append(
            error(
                f"There is a limit of {MAX_GROUPS_TO_DISPLAY} unsubscribe groups that can be displayed to "
                f"a user at a time.",
                ("asm", "groups_to_display"),
            )
        )
    if mail.ip_pool_name is not None and not 2 <= len(mail.ip_pool_name) <= 64:
        errors.append(error("The name of your IP pool must be a string of 2 to 64 characters.", ("ip_pool_name",)))


def check_request(mail: MailSendRequest, now: datetime) -> list[FieldError]:
    """Every value rule the request alone decides; an empty list means it passed."""
    errors: list[FieldError] = []
    _check_address(mail.from_, ("from",), errors, "from")
    if mail.reply_to is not None:
        _check_address(mail.reply_to, ("reply_to",), errors, "reply_to")
        if mail.reply_to_list:
            errors.append(
                error("The reply_to and reply_to_list parameters cannot be used together.", ("reply_to_list",))
            )
    for i, address in enumerate(mail.reply_to_list or []):
        _check_address(address, ("reply_to_list", i), errors)
    _check_personalizations(mail, now, errors)
    _check_subject(mail.subject, ("subject",), errors)
    _check_content(mail, errors)
    _check_attachments(mail.attachments, errors)
    _check_attachment_volume(mail, errors)
    _check_headers(mail.headers, ("headers",), errors)
    _check_categories(mail.categories, errors)
    _check_send_at(mail.send_at, ("send_at",), now, errors)
    _check_settings(mail, errors)
    return errors


# --- rules that need the tenant's rows -------------------------------------------------------------------------------
@dataclass(frozen=True)
class References:
    """What the tenant's data says about the request's references (looked up by the service)."""

    template_found: bool = False
    template_active: bool = False
    template_subject: str | None = None
    # the active version's content at accept time, stored with the request so in-flight sends render the version
    # they were accepted with even if the template changes or is deleted before the worker gets to them (docs/templates.md)
    template_snapshot: dict[str, Any] | None = None
    batch_status: str | None = None  # None: no such batch
    asm_groups: frozenset[int] = field(default_factory=frozenset)  # the requested ids that exist


def check_references(mail: MailSendRequest, refs: References) -> list[FieldError]:
    """The rules that need the tenant's rows: template, subject, batch and ASM groups."""
    errors: list[FieldError] = []
    template_id = mail.template_id
    if template_id is not None and template_id.startswith(TEMPLATE_PREFIX):
        if not refs.template_found:
            errors.append(
                error(
                    f"The template_id must be a valid template ID for your account. You provided {template_id}.",
                    ("template_id",),
                )
            )
        elif not refs.template_active:
            errors.append(error(f"The template {template_id} has no active version.", ("template_id",)))
    has_subject = (
        mail.subject is not None
        or bool(refs.template_subject)
        or all(p.subject is not None for p in mail.personalizations)
    )
    if not has_subject and not (template_id and not refs.template_active):
        errors.append(
            error(
                "The subject is required. You can get around this requirement if you use a template with "
                "a subject defined or if every personalization has a subject defined.",
                ("subject",),
            )
        )
    if mail.batch_id is not None:
        if refs.batch_status is None:
            errors.append(
                error(
                    f"The batch_id must be a valid batch ID for your account. You provided {mail.batch_id}.",
                    ("batch_id",),
                )
            )
        elif refs.batch_status == "cancelled":
            errors.append(error(f"The batch {mail.batch_id} has been cancelled.", ("batch_id",)))
    if mail.asm is not None:
        if mail.asm.group_id not in refs.asm_groups:
            errors.append(
                error(
                    f"The ASM group ID must be a valid Group ID on your account. You provided {mail.asm.group_id}.",
                    ("asm", "group_id"),
                )
            )
        unknown = [g for g in mail.asm.groups_to_display or [] if g not in refs.asm_groups]
        if unknown:
            errors.append(
                error(
                    f"All ASM groups to display must be valid ASM groups IDs on your account. You "
                    f"provided {', '.join(map(str, unknown))}.",
                    ("asm", "groups_to_display"),
                )
            )
    return errors
