"""Public tracking routes (docs/compose.md), no authentication: the token is the credential.

- ``GET /t/o/{token}.gif``: the 42-byte transparent GIF, identical whether or not an open was recorded.
- ``GET /t/c/{token}?u=<url>``: records a click and answers 302 to ``u`` only when the token was minted for that
  URL (no open redirect); 404 for a bad token, 400 for a missing or altered ``u``.
- ``GET /t/u/{token}``: the preferences page; ``POST /t/u/{token}`` with ``action`` (``unsubscribe_all``,
  ``unsubscribe_group``, ``resubscribe_group``) and ``group_id``, or RFC 8058's ``List-Unsubscribe=One-Click``
  (unsubscribes from the message's ASM group when it has one, else from everything).

Every hit counts against ``RATE_LIMIT_TRACKING`` per client address and message (issue 9 finding 3; D46). Above it
an open still gets its GIF and a click its redirect, but neither is recorded (nothing touches the database); the
unsubscribe page and its form answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.api.rate_limits import TRACKING
from scaisend.tracking import pages
from scaisend.tracking import service as tracking_service
from scaisend.tracking.config import tenant_tracking
from scaisend.tracking.service import Hit, UnsubscribeAction
from scaisend.tracking.tokens import TokenKind, TrackingToken, verify_token

router = APIRouter(tags=["tracking"], include_in_schema=False)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {"Cache-Control": "private, no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
# The unsubscribe pages (issue 9 finding 8; D49): no script runs, nothing loads from elsewhere but images, the form
# posts only back here, no other site may frame them. A tenant's own landing HTML is served under the same policy.
PAGE_HEADERS = {
    **NO_CACHE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _hit(request: Request, resources: ResourcesDep) -> Hit:
    return Hit(
        at=resources.clock.now(),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def _throttle(request: Request, resources: ResourcesDep, parsed: TrackingToken | None) -> dict[str, str] | None:
    """The 429 headers when this client has hit this message's links too often, else ``None``."""
    client = request.client.host if request.client else "unknown"
    decision = await resources.rate_limiter.hit(TRACKING, client, parsed.message_id if parsed else "-")
    return decision.headers() if decision is not None and not decision.allowed else None


def _too_many(headers: dict[str, str]) -> HTMLResponse:
    page = pages.message_page("Too many requests", "Please try again in a minute.")
    return HTMLResponse(page, status_code=429, headers={**PAGE_HEADERS, **headers})


@router.get("/t/o/{token}.gif")
async def open_pixel(token: str, request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    parsed = verify_token(resources.settings.secret_keys, token, kind=TokenKind.OPEN)
    if await _throttle(request, resources, parsed):
        return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)
    message = await tracking_service.tracked_message(session, parsed) if parsed else None
    if parsed is not None and message is not None:
        await tracking_service.record_open(session, message, parsed, _hit(request, resources))
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


@router.get("/t/c/{token}")
async def click(
    token: str, request: Request, session: SessionDep, resources: ResourcesDep, u: str | None = None
) -> Response:
    parsed = verify_token(resources.settings.secret_keys, token, kind=TokenKind.CLICK)
    if throttled := await _throttle(request, resources, parsed):
        if parsed is not None and u and parsed.matches_url(u):
            return RedirectResponse(u, status_code=302, headers=NO_CACHE)  # a signed destination; not recorded
        return PlainTextResponse("Too many requests", status_code=429, headers=throttled)
    message = await tracking_service.tracked_message(session, parsed) if parsed else None
    if parsed is None or message is None:
        return PlainTextResponse("Link not found", status_code=404)
    if not u or not parsed.matches_url(u):
        return PlainTextResponse("Missing or altered destination", status_code=400)
    await tracking_service.record_click(session, message, parsed, u, _hit(request, resources))
    return RedirectResponse(u, status_code=302, headers=NO_CACHE)


@router.get("/t/u/{token}")
async def preferences(token: str, request: Request, session: SessionDep, resources: ResourcesDep) -> HTMLResponse:
    parsed = verify_token(resources.settings.secret_keys, token, kind=TokenKind.UNSUBSCRIBE)
    if throttled := await _throttle(request, resources, parsed):
        return _too_many(throttled)
    message = await tracking_service.tracked_message(session, parsed) if parsed else None
    if parsed is None or message is None:
        return HTMLResponse(
            pages.message_page("Link not found", "This link is not valid."), status_code=404, headers=PAGE_HEADERS
        )
    groups = await tracking_service.tenant_groups(session, message.tenant_id)
    unsubscribed = await tracking_service.unsubscribed_groups(session, message.tenant_id, parsed.recipient)
    stored = await tenant_tracking(session, message.tenant_id)
    html = pages.landing_page(parsed.recipient, groups, unsubscribed, stored.get("subscription_tracking_landing_html"))
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.post("/t/u/{token}")
async def unsubscribe(token: str, request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    parsed = verify_token(resources.settings.secret_keys, token, kind=TokenKind.UNSUBSCRIBE)
    if throttled := await _throttle(request, resources, parsed):
        return _too_many(throttled)
    message = await tracking_service.tracked_message(session, parsed) if parsed else None
    if parsed is None or message is None:
        return HTMLResponse(
            pages.message_page("Link not found", "This link is not valid."), status_code=404, headers=PAGE_HEADERS
        )
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    hit = _hit(request, resources)
    if form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE:  # RFC 8058: no page, no confirmation
        action = UnsubscribeAction.UNSUBSCRIBE_GROUP if message.asm_group_id else UnsubscribeAction.UNSUBSCRIBE_ALL
        await tracking_service.apply_unsubscribe(session, message, parsed, action, message.asm_group_id, hit)
        return PlainTextResponse("Unsubscribed", headers=NO_CACHE)
    try:
        action = UnsubscribeAction(form.get("action", ""))
        group_id = int(form["group_id"]) if form.get("group_id") else None
    except ValueError:
        return HTMLResponse(
            pages.message_page("Unknown request", "Choose an option on the page."),
            status_code=400,
            headers=PAGE_HEADERS,
        )
    if not await tracking_service.apply_unsubscribe(session, message, parsed, action, group_id, hit):
        return HTMLResponse(
            pages.message_page("Unknown group", "That list does not exist."), status_code=400, headers=PAGE_HEADERS
        )
    done = {
        UnsubscribeAction.UNSUBSCRIBE_ALL: "You will no longer receive email from this sender.",
        UnsubscribeAction.UNSUBSCRIBE_GROUP: "You have been unsubscribed from this list.",
        UnsubscribeAction.RESUBSCRIBE_GROUP: "You have been subscribed to this list again.",
    }[action]
    return HTMLResponse(pages.message_page("Done", done), headers=PAGE_HEADERS)
