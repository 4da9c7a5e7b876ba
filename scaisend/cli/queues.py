"""``scaisend queues``: depth of each queue, measured by key type (D2: arq queues are sorted sets, ZCARD)."""

from __future__ import annotations

import argparse
import asyncio
import json

from redis.asyncio import Redis

from scaisend.cli.common import settings_or_exit
from scaisend.queues import Queues, queue_depths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("queues", help="show queue depths (ZCARD of each arq sorted set)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    queues = Queues(settings.REDIS_QUEUE_PREFIX)

    async def measure() -> dict[str, int]:
        redis = Redis.from_url(settings.REDIS_URL)
        try:
            return await queue_depths(redis, queues)
        finally:
            await redis.aclose()

    depths = asyncio.run(measure())
    if args.json:
        print(json.dumps(depths, sort_keys=True))
        return
    for name, depth in depths.items():
        print(f"{name:<18} {queues.key(name):<30} {depth}")
