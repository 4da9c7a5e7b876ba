"""Legacy templates and personalization ``substitutions`` (D15, docs/templates.md): plain key replacement, SendGrid style.

Every occurrence of a key (``-name-``, ``%name%``, ``{{name}}`` — whatever string the sender chose) is replaced by its
value in one pass: longer keys win over keys they contain, and replaced text is never substituted again. Values are
inserted as given, without HTML escaping, exactly as SendGrid does.

A legacy template *version* wraps the message: ``<%body%>`` in its HTML or text takes the message's content of that
type and ``<%subject%>`` in its subject takes the message's subject (:func:`fill_legacy_template`).
"""

from __future__ import annotations

from collections.abc import Mapping

from scaisend import linear_re

BODY_TAG = "<%body%>"
SUBJECT_TAG = "<%subject%>"


def substitute(text: str, substitutions: Mapping[str, object]) -> str:
    """``text`` with every key of ``substitutions`` replaced by its value (one pass, longest key first)."""
    keys = sorted((k for k in substitutions if k), key=len, reverse=True)
    if not keys or not text:
        return text
    # RE2: one automaton for all keys, linear in the text; Python's re tried every key at every position (the keys are
    # bounded by the 10,000-byte substitutions limit of mail/validation.py).
    pattern = linear_re.compile("|".join(linear_re.escape(k) for k in keys))
    values = {linear_re.readable(k): "" if v is None else str(v) for k, v in substitutions.items()}
    return pattern.sub(lambda m: values[m.group(0)], text)


def fill_legacy_template(template: str | None, *, content: str | None, tag: str = BODY_TAG) -> str | None:
    """A legacy version's part with ``tag`` (``<%body%>`` or ``<%subject%>``) replaced by the message's ``content``.

    Without a template part the content stands alone; without content the tag is removed."""
    if template is None:
        return content
    return template.replace(tag, content or "")
