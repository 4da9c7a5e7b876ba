"""Run one attempt's per-domain sends concurrently as ONE unit (D66).

``asyncio.gather`` without ``return_exceptions`` hands back the first error at once and leaves the other domains
sending: the job then ends (and arq may run the attempt again) while SMTP transactions of the old run are still in
flight. :func:`run_as_one` instead lets every other domain finish its sends (each journals its results, so a re-run
does not send them again), then raises the first error; cancelling the caller (job timeout, shutdown) cancels every
domain and waits for them. No task outlives the attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def run_as_one(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """The results in order once all have finished; the first error (the others logged) if any raised."""
    outcomes = await asyncio.gather(*coroutines, return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if errors:
        for extra in errors[1:]:
            logger.error("another concurrent send failed too", exc_info=extra)
        raise errors[0]
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
