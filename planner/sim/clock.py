"""The simulated cloud's own clock, derived from another clock.

The real cloud's clock is not the client's: it may be skewed (an offset) and,
against ``sim serve --time-scale X``, run at another rate. ``SimClock`` is such
a clock over a base clock (a VirtualClock shared with an in-process client, or
the wall clock): ``now() = base.now() + offset + (base.now() - origin) * (rate - 1)``,
i.e. at ``origin`` it reads the base plus ``offset`` and then runs ``rate`` times
as fast. Sleeping ``s`` seconds of this clock sleeps ``s / rate`` of the base.
So a test can give the simulator a clock the client does not share, and the
client learns it only from the times the simulator returns.
"""

from __future__ import annotations

from planner.clock import Clock


class SimClock:
    def __init__(
        self, base: Clock, offset: float = 0.0, rate: float = 1.0, origin: float | None = None
    ) -> None:
        if rate <= 0:
            raise ValueError("a clock rate must be positive")
        self.base = base
        self.offset = offset
        self.rate = rate
        self.origin = base.now() if origin is None else origin

    def now(self) -> float:
        b = self.base.now()
        return b + self.offset + (b - self.origin) * (self.rate - 1.0)

    def to_base(self, t: float) -> float:
        """The base clock's reading when this clock reads ``t`` (the inverse of ``now``)."""
        return self.origin + (t - self.offset - self.origin) / self.rate

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(max(0.0, seconds) / self.rate)
