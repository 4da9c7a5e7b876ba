"""An attempt's per-domain sends end as one unit (D66): when one domain raises, the others finish their sends first
(nothing keeps sending after the job has ended), then the first error is raised; cancelling the attempt cancels
every domain and waits for them."""

from __future__ import annotations

import asyncio

import pytest

from scaisend.delivery.concurrency import run_as_one


class DomainFault(Exception):
    pass


async def test_results_come_back_in_order() -> None:
    async def domain(name: str) -> list[str]:
        await asyncio.sleep(0)
        return [f"{name}-result"]

    assert await run_as_one(domain(name) for name in ("a", "b", "c")) == [["a-result"], ["b-result"], ["c-result"]]


async def test_a_raising_domain_lets_the_others_finish_then_raises() -> None:
    raised = asyncio.Event()
    finished: list[str] = []

    async def failing() -> list[str]:
        raised.set()
        raise DomainFault("resolver blew up")

    async def still_sending(name: str) -> list[str]:
        await raised.wait()  # still in flight when the other domain raises
        await asyncio.sleep(0)
        finished.append(name)
        return [name]

    with pytest.raises(DomainFault):
        await run_as_one([still_sending("b"), failing(), still_sending("c")])

    assert sorted(finished) == ["b", "c"]  # asyncio.gather alone would have raised with both still sending


async def test_the_first_error_is_raised_when_several_domains_fail() -> None:
    async def failing(text: str) -> list[str]:
        raise DomainFault(text)

    with pytest.raises(DomainFault, match="first"):
        await run_as_one([failing("first"), failing("second")])


async def test_cancelling_the_attempt_cancels_and_awaits_every_domain() -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    async def sending(name: str) -> list[str]:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        return [name]

    attempt = asyncio.create_task(run_as_one([sending("a"), sending("b")]))
    await started.wait()
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt

    assert sorted(cancelled) == ["a", "b"]
