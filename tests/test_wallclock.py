"""The client's clock moves with the monotonic clock: a wall clock stepped by an hour
(NTP, a VM resumed) moves no deadline. A step made apply sleep about 24 hours."""

from __future__ import annotations

import time

import pytest

from planner.clock import WallClock


@pytest.mark.parametrize("step", [3600.0, -2 * 86400.0])
def test_a_stepped_wall_clock_moves_no_deadline(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    clock = WallClock()
    before = clock.now()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + step)
    after = clock.now()
    assert 0 <= after - before < 5  # what passed, not the step
    assert abs(WallClock().now() - (real() + step)) < 5  # a new clock reads the wall clock
