"""Clocks shared by the simulator and apply.

Everything that waits or reads the time goes through a Clock, so tests and the
demo can run hours of simulated restores in moments (VirtualClock) or at a
chosen speed (ScaledClock), while production uses the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch on this clock."""
        ...

    async def sleep(self, seconds: float) -> None: ...


_last: tuple[float, datetime] = (float("nan"), datetime.min)  # datetimes are immutable: shared


def to_datetime(ts: float) -> datetime:
    """The UTC datetime of epoch seconds; the last one is kept, since the events and
    records of one moment of an apply all ask for the same."""
    global _last
    last = _last  # one read: a thread may replace it meanwhile (the tuple, never half of it)
    if ts == last[0]:
        return last[1]
    dt = datetime.fromtimestamp(ts, tz=UTC)
    _last = (ts, dt)
    return dt


class WallClock:
    """Epoch seconds that move with the monotonic clock: read once from the wall clock,
    then advanced by ``time.monotonic()``. A wall clock stepped meanwhile (NTP, a VM
    resumed) moves no deadline: an apply sleeping until a time on this clock wakes on
    time (a step of an hour made it sleep about 24 hours)."""

    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Runs ``scale`` seconds of clock time per real second, from ``start``."""

    def __init__(self, scale: float = 1.0, start: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._real0 = time.monotonic()
        self._start = time.time() if start is None else start

    def now(self) -> float:
        return self._start + (time.monotonic() - self._real0) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)


class VirtualClock:
    """Time moves only when someone sleeps: sleeping advances it at once.

    Correct for one sleeper at a time (apply's single scheduling loop); with
    several concurrent sleepers it is monotone but approximate.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            # at epoch magnitudes a float's step is ~2.4e-7 s: a smaller advance would
            # leave the time unchanged and a waiter polling it would spin forever
            self._now += max(seconds, 1e-6)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
