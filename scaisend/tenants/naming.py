"""Slugs for partners and tenants: lowercase letters, digits and dashes, at most 80 characters."""

from __future__ import annotations

import re

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str, fallback: str = "tenant") -> str:
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")
    return slug[:80] or fallback
