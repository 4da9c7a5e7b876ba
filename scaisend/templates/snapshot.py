"""The template version a send was accepted with (docs/templates.md: "in-flight sends finish" after a template changes or
is deleted). The accept stage stores a copy of the active version in the send request's body under
:data:`TEMPLATE_SNAPSHOT_KEY`; the compose stage renders that copy rather than whatever is active by then."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scaisend.models import Template, TemplateVersion

TEMPLATE_SNAPSHOT_KEY = "_template"  # not a SendGrid field: the leading underscore keeps it apart


@dataclass(frozen=True)
class TemplateSnapshot:
    generation: str
    version_id: str
    subject: str | None
    html_content: str | None
    plain_content: str | None
    preheader: str | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def take_snapshot(template: Template, version: TemplateVersion) -> TemplateSnapshot:
    return TemplateSnapshot(
        template.generation, version.id, version.subject, version.html_content, version.plain_content, version.preheader
    )


def stored_snapshot(body: Mapping[str, Any]) -> TemplateSnapshot | None:
    """The snapshot in a stored send request, if the request was accepted with one."""
    raw = body.get(TEMPLATE_SNAPSHOT_KEY)
    if not isinstance(raw, Mapping):
        return None
    values: dict[str, Any] = {k: raw.get(k) for k in TemplateSnapshot.__dataclass_fields__}
    return TemplateSnapshot(**values)
