"""The permission catalogue (docs/sending.md, D4) and the default roles every new tenant gets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    name: str
    category: str
    description: str


SCOPES: tuple[Scope, ...] = (
    Scope("mail.send", "mail", "Send mail; retry or fail messages"),
    Scope("mail.schedule", "mail", "Schedule mail with send_at; create and read batches"),
    Scope("mail.cancel", "mail", "Cancel queued or processing messages and batches"),
    Scope("templates.read", "templates", "Read templates and versions"),
    Scope("templates.write", "templates", "Create, update, activate and duplicate templates"),
    Scope("templates.delete", "templates", "Delete templates and versions"),
    Scope("suppressions.read", "suppressions", "List suppressions and groups"),
    Scope("suppressions.write", "suppressions", "Add and remove suppressions; manage groups"),
    Scope("stats.read", "stats", "Read statistics"),
    Scope("stats.export", "stats", "Trigger statistics exports and rebuilds"),
    Scope("webhooks.read", "webhooks", "List webhook endpoints and settings"),
    Scope("webhooks.write", "webhooks", "Create, update and delete webhook endpoints"),
    Scope("domains.read", "domains", "List sender domains"),
    Scope("domains.write", "domains", "Add sender domains, verify DNS, rotate DKIM"),
    Scope("admin.api_keys", "admin", "Create, update and revoke API keys"),
    Scope("admin.users", "admin", "Assign and remove user roles"),
    Scope("admin.settings", "admin", "Tenant settings (tracking, defaults)"),
)
SCOPE_NAMES: frozenset[str] = frozenset(s.name for s in SCOPES)

DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "admin": tuple(s.name for s in SCOPES),
    "developer": ("mail.send", "mail.schedule", "templates.read", "stats.read", "webhooks.read"),
    "viewer": tuple(s.name for s in SCOPES if s.name.endswith(".read")),
}


def unknown_scopes(scopes: list[str]) -> list[str]:
    return sorted(set(scopes) - SCOPE_NAMES)
