from __future__ import annotations

import asyncio

from planner.clock import VirtualClock
from planner.cloud.ratelimit import RateLimiter


def test_bucket_paces_on_the_clock_and_adapts() -> None:
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10.0, clock)

    async def take(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(take(2 + 50))  # burst of 2, then 10 per second
    assert 4.9 <= clock.now() <= 5.1
    limiter.throttled()
    assert limiter.rate == 5.0
    limiter.throttled()
    assert limiter.rate == 2.5
    for _ in range(40):
        limiter.succeeded()
    assert limiter.rate == 10.0
