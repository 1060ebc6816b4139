"""Client-side request-rate limiting: a token bucket that backs off after a 429.

Owns pacing only. Waiting goes through the injected Clock, so tests on a
VirtualClock never really sleep.
"""

from __future__ import annotations

import asyncio

from planner.clock import Clock


class RateLimiter:
    """Token bucket of ``max_rps`` requests per second (small burst).

    After a 429 the rate halves (down to ``min_rps``); each success then adds
    back a fiftieth of ``max_rps`` until the rate is full again (AIMD).
    """

    def __init__(self, max_rps: float, clock: Clock, *, min_rps: float = 0.5) -> None:
        if max_rps <= 0:
            raise ValueError("max_rps must be positive")
        self.max_rps = max_rps
        self.min_rps = min(min_rps, max_rps)
        self.rate = max_rps
        # a small burst: a large one would overrun a server-side per-second limit
        self.burst = max(1.0, max_rps / 5.0)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock.now()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock.now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self) -> None:
        async with self._lock:  # one waiter at a time keeps the order fair
            self._refill()
            if self._tokens < 1.0:
                await self._clock.sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            # we waited for our token: take it even if float rounding left 0.999...
            self._tokens = max(0.0, self._tokens - 1.0)

    def throttled(self) -> None:
        self.rate = max(self.min_rps, self.rate / 2.0)
        self._tokens = min(self._tokens, 0.0)

    def succeeded(self) -> None:
        if self.rate < self.max_rps:
            self.rate = min(self.max_rps, self.rate + self.max_rps / 50.0)
