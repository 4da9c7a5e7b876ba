"""Request and response shapes of ``/v3/templates`` and its versions (docs/templates.md, SendGrid's templates API).

``generate_plain_content`` has no column: a version whose ``plain_content`` is stored as NULL has its text generated
from the HTML (at send time, from the rendered HTML), and the API reports ``generate_plain_content: true`` for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scaisend.models import Template, TemplateVersion
from scaisend.templates.html_to_text import html_to_text

Generation = Literal["dynamic", "legacy"]
Editor = Literal["code", "design"]
TEMPLATE_NAME_MAX = 100  # SendGrid's limit


class TemplateCreate(BaseModel):
    name: str = Field(min_length=1, max_length=TEMPLATE_NAME_MAX)
    generation: Generation = "dynamic"


class TemplateUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=TEMPLATE_NAME_MAX)


class TemplateDuplicate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=TEMPLATE_NAME_MAX)


class VersionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    subject: str | None = Field(None, max_length=1000)
    preheader: str | None = Field(None, max_length=500)
    html_content: str | None = Field(None, max_length=1_048_576)
    plain_content: str | None = Field(None, max_length=1_048_576)
    generate_plain_content: bool | None = None  # default: true unless plain_content is given
    editor: Editor = "code"
    active: Literal[0, 1] = 0
    test_data: str | None = None  # accepted for SendGrid clients, not stored


class VersionUpdate(BaseModel):
    """Partial update: fields left out are kept; ``null`` clears subject, preheader or content."""

    name: str | None = Field(None, min_length=1, max_length=255)
    subject: str | None = Field(None, max_length=1000)
    preheader: str | None = Field(None, max_length=500)
    html_content: str | None = Field(None, max_length=1_048_576)
    plain_content: str | None = Field(None, max_length=1_048_576)
    generate_plain_content: bool | None = None
    editor: Editor | None = None
    active: Literal[0, 1] | None = None
    test_data: str | None = None


class VersionLeanOut(BaseModel):
    id: str
    template_id: str
    name: str
    subject: str | None
    active: int
    editor: str
    generate_plain_content: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, row: TemplateVersion) -> VersionLeanOut:
        return cls(
            id=row.id,
            template_id=row.template_id,
            name=row.name,
            subject=row.subject,
            active=row.active,
            editor=row.editor,
            generate_plain_content=row.plain_content is None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class VersionOut(VersionLeanOut):
    html_content: str | None
    plain_content: str | None  # when generated: the text of the HTML source, as a preview
    preheader: str | None

    @classmethod
    def build(cls, row: TemplateVersion) -> VersionOut:
        plain = row.plain_content
        if plain is None:
            plain = html_to_text(row.html_content) if row.html_content else ""
        lean = VersionLeanOut.build(row)
        return cls(**lean.model_dump(), html_content=row.html_content, plain_content=plain, preheader=row.preheader)


class TemplateLeanOut(BaseModel):
    id: str
    name: str
    generation: str
    created_at: datetime
    updated_at: datetime
    versions: list[VersionLeanOut]

    @classmethod
    def build(cls, row: Template, versions: list[TemplateVersion]) -> TemplateLeanOut:
        return cls(
            id=row.id,
            name=row.name,
            generation=row.generation,
            created_at=row.created_at,
            updated_at=row.updated_at,
            versions=[VersionLeanOut.build(v) for v in versions],
        )


class TemplateOut(TemplateLeanOut):
    versions: list[VersionOut]  # type: ignore[assignment]

    @classmethod
    def build(cls, row: Template, versions: list[TemplateVersion]) -> TemplateOut:
        return cls(
            id=row.id,
            name=row.name,
            generation=row.generation,
            created_at=row.created_at,
            updated_at=row.updated_at,
            versions=[VersionOut.build(v) for v in versions],
        )


class ListMetadata(BaseModel):
    self: str
    next: str | None = None
    count: int


class TemplateList(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    result: list[TemplateLeanOut]
    metadata: ListMetadata = Field(serialization_alias="_metadata")


class VersionList(BaseModel):
    result: list[VersionOut]
