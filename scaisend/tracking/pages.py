"""The unsubscribe landing page and its confirmations (docs/compose.md): plain, self-contained HTML; a tenant may supply
its own page in the tracking setting ``subscription_tracking_landing_html``, where ``[unsubscribe_form]`` marks the
spot for the form."""

from __future__ import annotations

from html import escape

from scaisend.models import AsmGroup

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}}
button{{margin:.25rem 0;padding:.4rem .8rem}}li{{margin:.4rem 0}}</style></head>
<body>{body}</body></html>
"""
FORM_MARK = "[unsubscribe_form]"


def _form(action: str, label: str, group_id: int | None = None) -> str:
    group = f'<input type="hidden" name="group_id" value="{group_id}">' if group_id is not None else ""
    return (
        f'<form method="post"><input type="hidden" name="action" value="{action}">{group}'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def landing_page(recipient: str, groups: list[AsmGroup], unsubscribed: set[int], custom_html: str | None) -> str:
    items = []
    for group in groups:
        if group.id in unsubscribed:
            button = _form("resubscribe_group", f"Resubscribe to {group.name}", group.id)
            state = "unsubscribed"
        else:
            button = _form("unsubscribe_group", f"Unsubscribe from {group.name}", group.id)
            state = "subscribed"
        description = f" — {escape(group.description)}" if group.description else ""
        items.append(f"<li><strong>{escape(group.name)}</strong>{description} ({state}){button}</li>")
    groups_html = f"<h2>Choose what you receive</h2><ul>{''.join(items)}</ul>" if items else ""
    form = (
        f"<p>Manage the email sent to <strong>{escape(recipient)}</strong>.</p>{groups_html}"
        f"<h2>Everything</h2>{_form('unsubscribe_all', 'Unsubscribe from all email')}"
    )
    if custom_html and FORM_MARK in custom_html:
        return custom_html.replace(FORM_MARK, form)
    return _PAGE.format(title="Email preferences", body=f"<h1>Email preferences</h1>{form}")


def message_page(title: str, text: str) -> str:
    return _PAGE.format(title=escape(title), body=f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
