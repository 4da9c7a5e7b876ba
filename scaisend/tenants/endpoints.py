"""``POST /webhooks/scaikey`` (docs/observability.md, docs/deploy.md, D54): identity events from ScaiKey keep the local partners, tenants, users,
groups and memberships in step. Routes only.

The request must carry ``X-ScaiKey-Signature: t=<unix>,v1=<hex>``, v1 = HMAC-SHA256(``SCAIKEY_WEBHOOK_SECRET``,
``"<t>.<raw body>"``), with ``t`` within 5 minutes of now; otherwise 401. Answers ``200 {"status": "applied" |
"duplicate" | "ignored"}``; every event is counted in ``scaisend_identity_events_total``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.errors import AuthenticationError, BadRequestError, NotFoundError
from scaisend.metrics import IDENTITY_EVENTS
from scaisend.tenants.identity_events import IdentityEventIn, apply_event
from scaisend.webhooks.signing import verify_signature

router = APIRouter(tags=["identity events"])

SIGNATURE_HEADER = "X-ScaiKey-Signature"
EVENT_ID_HEADER = "X-ScaiKey-Event-ID"
REPLAY_WINDOW = 300  # seconds


@router.post("/webhooks/scaikey")
async def scaikey_event(request: Request, resources: ResourcesDep, session: SessionDep) -> dict[str, str]:
    secret = resources.settings.SCAIKEY_WEBHOOK_SECRET
    if not secret:
        raise NotFoundError("Identity events are not configured (SCAIKEY_WEBHOOK_SECRET)")
    raw = await request.body()
    now = resources.clock.now()
    if not verify_signature(secret, request.headers.get(SIGNATURE_HEADER, ""), raw, now, REPLAY_WINDOW):
        IDENTITY_EVENTS.labels("unknown", "rejected").inc()
        raise AuthenticationError("Invalid or expired signature")
    try:
        event = IdentityEventIn.parse(json.loads(raw))
    except ValueError as exc:
        raise BadRequestError("The body is not JSON") from exc
    header_id = request.headers.get(EVENT_ID_HEADER)
    if header_id and header_id != event.event_id:
        raise BadRequestError(f"{EVENT_ID_HEADER} does not match event_id")
    applied = await apply_event(session, event, now)
    IDENTITY_EVENTS.labels(applied.family, applied.outcome).inc()
    return {"status": applied.outcome, **({"reason": applied.reason} if applied.reason else {})}
