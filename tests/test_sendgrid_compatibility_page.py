"""docs/sendgrid-compatibility.md stays current (issue 16 §4): every route of the app's OpenAPI document, and every path
of SendGrid's v3 OpenAPI documents for the families ScaiSend covers, is named on the page, written out in full."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scaisend.api.app import create_app
from scaisend.settings import load_settings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "sendgrid-compatibility.md"

# The paths of SendGrid's own OpenAPI documents (twilio/sendgrid-oai, tsg_{api_keys,email_activity,mail_settings,mail,
# scopes,stats,suppressions,templates,tracking_settings,webhooks}_v3.json), with SendGrid's parameter names.
SENDGRID_PATHS = (
    "/v3/api_keys",
    "/v3/api_keys/{api_key_id}",
    "/v3/asm/groups",
    "/v3/asm/groups/{group_id}",
    "/v3/asm/groups/{group_id}/suppressions",
    "/v3/asm/groups/{group_id}/suppressions/search",
    "/v3/asm/groups/{group_id}/suppressions/{email}",
    "/v3/asm/suppressions",
    "/v3/asm/suppressions/global",
    "/v3/asm/suppressions/global/{email}",
    "/v3/asm/suppressions/{email}",
    "/v3/browsers/stats",
    "/v3/categories",
    "/v3/categories/stats",
    "/v3/categories/stats/sums",
    "/v3/clients/stats",
    "/v3/clients/{client_type}/stats",
    "/v3/devices/stats",
    "/v3/geo/stats",
    "/v3/mail/batch",
    "/v3/mail/batch/{batch_id}",
    "/v3/mail/send",
    "/v3/mail_settings",
    "/v3/mail_settings/address_whitelist",
    "/v3/mail_settings/bounce_purge",
    "/v3/mail_settings/footer",
    "/v3/mail_settings/forward_bounce",
    "/v3/mail_settings/forward_spam",
    "/v3/mail_settings/template",
    "/v3/mailbox_providers/stats",
    "/v3/messages",
    "/v3/messages/download",
    "/v3/messages/download/{download_uuid}",
    "/v3/messages/{msg_id}",
    "/v3/scopes",
    "/v3/stats",
    "/v3/suppression/blocks",
    "/v3/suppression/blocks/{email}",
    "/v3/suppression/bounces",
    "/v3/suppression/bounces/classifications",
    "/v3/suppression/bounces/classifications/{classification}",
    "/v3/suppression/bounces/{email}",
    "/v3/suppression/invalid_emails",
    "/v3/suppression/invalid_emails/{email}",
    "/v3/suppression/spam_reports",
    "/v3/suppression/spam_reports/{email}",
    "/v3/suppression/unsubscribes",
    "/v3/templates",
    "/v3/templates/{template_id}",
    "/v3/templates/{template_id}/versions",
    "/v3/templates/{template_id}/versions/{version_id}",
    "/v3/templates/{template_id}/versions/{version_id}/activate",
    "/v3/tracking_settings",
    "/v3/tracking_settings/click",
    "/v3/tracking_settings/google_analytics",
    "/v3/tracking_settings/open",
    "/v3/tracking_settings/subscription",
    "/v3/user/webhooks/event/settings",
    "/v3/user/webhooks/event/settings/all",
    "/v3/user/webhooks/event/settings/signed/{id}",
    "/v3/user/webhooks/event/settings/{id}",
    "/v3/user/webhooks/event/test",
    "/v3/user/webhooks/parse/settings",
    "/v3/user/webhooks/parse/settings/{hostname}",
    "/v3/user/webhooks/parse/stats",
    "/v3/user/webhooks/security/policies",
    "/v3/user/webhooks/security/policies/{id}",
)


def named_paths(text: str) -> set[str]:
    """Every path written in a code span of the page (``GET/PATCH /v3/x/{id}``, ``/v3/y``, ...)."""
    found = set()
    for span in re.findall(r"`([^`]+)`", text):
        found.update(
            re.findall(r"(/(?:v3|api|t|i|health|ready|metrics|docs|openapi|webhooks)[A-Za-z0-9_{}./-]*)", span)
        )
    return {path.rstrip(".") for path in found}


def app_paths() -> list[str]:
    return sorted(create_app(load_settings()).openapi()["paths"])


@pytest.fixture(scope="module")
def page_paths() -> set[str]:
    return named_paths(PAGE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", app_paths())
def test_every_route_of_the_app_is_on_the_page(path: str, page_paths: set[str]) -> None:
    assert path in page_paths, f"{path} is served but docs/sendgrid-compatibility.md does not name it"


@pytest.mark.parametrize("path", SENDGRID_PATHS)
def test_every_sendgrid_path_of_the_covered_families_is_on_the_page(path: str, page_paths: set[str]) -> None:
    assert path in page_paths, f"SendGrid's {path} is not placed on docs/sendgrid-compatibility.md"


def test_the_check_sees_paths_in_code_spans_only() -> None:
    assert named_paths("`GET/PATCH /v3/a/{id}`, /v3/b, `/v3/c.`") == {"/v3/a/{id}", "/v3/c"}
