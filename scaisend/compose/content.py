"""The render step of compose (docs/templates.md, D15): subject, HTML, text and preheader of one message.

- Template sends use the template's active version: ``dynamic`` templates are rendered with the personalization's
  ``dynamic_template_data`` (a version without a subject falls back to the message's subject); ``legacy`` versions
  wrap the request's content (``<%body%>``, ``<%subject%>``) and take the personalization's ``substitutions``.
- Content sends use the request's ``content`` values (first ``text/plain``, first ``text/html``) and the message's
  subject, with legacy ``substitutions`` applied when the personalization has any.

The outcome is :class:`Rendered` or :class:`RenderFailed` (a missing template, a template that cannot render, no
content at all); nothing here raises for those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Message
from scaisend.templates.legacy import BODY_TAG, SUBJECT_TAG, fill_legacy_template
from scaisend.templates.renderer import RenderedContent, TemplateRenderError, render_dynamic, render_legacy
from scaisend.templates.service import active_version
from scaisend.templates.snapshot import TemplateSnapshot, stored_snapshot, take_snapshot


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str | None
    text: str | None
    preheader: str | None


@dataclass(frozen=True)
class RenderFailed:
    error: str


RenderOutcome = Rendered | RenderFailed


def request_content(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The request's first ``text/html`` and first ``text/plain`` values."""
    html: str | None = None
    text: str | None = None
    for item in body.get("content") or []:
        kind = str(item.get("type") or "").lower()
        value = item.get("value")
        if not isinstance(value, str):
            continue
        if kind == "text/html" and html is None:
            html = value
        elif kind == "text/plain" and text is None:
            text = value
    return html, text


def _substitutions(personalization: Mapping[str, Any]) -> dict[str, str]:
    raw = personalization.get("substitutions") or {}
    return {str(k): "" if v is None else str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _finish(rendered: RenderedContent, fallback_subject: str | None) -> RenderOutcome:
    if rendered.html is None and rendered.text is None:
        return RenderFailed("The message has no content: neither text/plain nor text/html")
    subject = rendered.subject if rendered.subject else (fallback_subject or "")
    return Rendered(subject, rendered.html, rendered.text, rendered.preheader or None)


async def _template_version(
    session: AsyncSession, message: Message, body: Mapping[str, Any]
) -> TemplateSnapshot | None:
    """The version the send was accepted with; the active one for requests stored before snapshots existed."""
    snapshot = stored_snapshot(body)
    if snapshot is not None:
        return snapshot
    found = await active_version(session, message.tenant_id, message.template_id or "")
    return take_snapshot(*found) if found is not None else None


async def _render_template(session: AsyncSession, message: Message, body: Mapping[str, Any]) -> RenderOutcome:
    version = await _template_version(session, message, body)
    if version is None:
        return RenderFailed(f"Template {message.template_id} not found or has no active version")
    personalization = message.personalization or {}
    if version.generation == "legacy":
        html, text = request_content(body)
        rendered = render_legacy(
            subject=fill_legacy_template(version.subject, content=message.subject, tag=SUBJECT_TAG),
            html=fill_legacy_template(version.html_content, content=html, tag=BODY_TAG),
            text=fill_legacy_template(version.plain_content, content=text, tag=BODY_TAG),
            substitutions=_substitutions(personalization),
        )
        return _finish(rendered, message.subject)
    data = personalization.get("dynamic_template_data")
    rendered = render_dynamic(
        subject=version.subject or message.subject,
        html=version.html_content,
        text=version.plain_content,
        preheader=version.preheader,
        data=dict(data) if isinstance(data, Mapping) else {},
    )
    return _finish(rendered, message.subject)


async def render_message(session: AsyncSession, message: Message, body: Mapping[str, Any]) -> RenderOutcome:
    """Subject and parts of ``message`` (``body`` is its stored send request without personalizations)."""
    try:
        if message.template_id:
            return await _render_template(session, message, body)
        html, text = request_content(body)
        substitutions = _substitutions(message.personalization or {})
        if substitutions:
            return _finish(
                render_legacy(subject=message.subject, html=html, text=text, substitutions=substitutions),
                message.subject,
            )
        return _finish(RenderedContent(message.subject, html, text, None), message.subject)
    except TemplateRenderError as exc:
        return RenderFailed(f"Template render error: {exc}")
