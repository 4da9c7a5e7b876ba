"""Request-scoped dependencies: the resources, and a database session that commits when the request succeeds
and rolls back when it raises (sessions are owned by the edges). Jobs handed off during the request (accepted
messages, webhook deliveries) are queued after the commit (:mod:`scaisend.db.handoff`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.api.resources import Resources
from scaisend.db.handoff import unit_of_work_handing_off

# Bounds of paging and time query parameters (found by the fuzz suite, tests/security/test_fuzz.py): an OFFSET beyond
# what MySQL takes was a 500. Larger values are a 422 like any other invalid parameter.
MAX_OFFSET = 10_000_000
MAX_PAGE = 100_000
MAX_UNIX_TIME = 253_402_214_399  # 9999-12-30T23:59:59Z: a day short of what a datetime holds (end_time + 1 is used)


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def get_session(resources: Annotated[Resources, Depends(get_resources)]) -> AsyncIterator[AsyncSession]:
    async with unit_of_work_handing_off(resources.maker, resources.redis, resources.queues) as session:
        yield session


ResourcesDep = Annotated[Resources, Depends(get_resources)]
# scope="function": commit (or roll back) when the route function returns, BEFORE the response is sent, so a failed
# commit becomes an error response instead of a success the client saw for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
