"""The polling policy as a pure function: observed history and now -> when to look.

Every case here is a cloud that does not run at the plan's estimate: the policy
must notice an end within 5 % of the task's real duration whatever the pace,
and look no more often than it needs to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pytest

from planner.apply.policy import (
    END_SHARE,
    PROBE_S,
    WATCH_SHARE,
    PaceModel,
    Prediction,
    TaskHistory,
    look_window,
    next_poll,
    predicted_end,
)

T0 = 1_800_000_000.0


def _simulate(actual_s: float, estimate_s: float, pace: PaceModel, poll_interval: float = 5.0) -> tuple[float, int]:
    """Polls one linear-progress task until its end is seen: (lateness, looks)."""
    task = TaskHistory(accepted_at=T0, estimate_s=estimate_s, size_gb=100.0, last_seen=T0)
    end = T0 + actual_s
    looks = 0
    last_poll = T0
    while True:
        pred = pace.predict(estimate_s, 100.0)
        at = next_poll([look_window(task, pred, poll_interval)], last_poll, last_poll, poll_interval)
        looks += 1
        last_poll = at
        if at >= end:
            return at - end, looks
        progress = int((at - T0) / actual_s * 100)
        task.observe(at, "running", progress, T0)
        assert looks < 500, "the policy never converges"


@pytest.mark.parametrize("factor", [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0])
def test_an_end_is_noticed_within_five_percent_whatever_the_pace_once_the_pace_is_learned(factor: float) -> None:
    pace = PaceModel()
    for size, est in ((50.0, 810.0), (200.0, 3060.0), (400.0, 6060.0), (100.0, 1560.0), (300.0, 4560.0)):
        pace.learn(est, size, est * factor)
    estimate = 60.0 + 100.0 / 4.0 * 60.0
    actual = estimate * factor
    late, looks = _simulate(actual, estimate, pace)
    assert late <= max(5.0, 0.05 * actual)
    # alone, a task is also looked at every WATCH_SHARE of its time (a failure can come any time)
    assert looks <= round(1 / WATCH_SHARE) + 2, f"{looks} looks for one task at {factor}x"


@pytest.mark.parametrize("factor", [0.001, 0.1, 1.0, 10.0])
def test_before_anything_finished_the_end_is_still_noticed_in_time(factor: float) -> None:
    estimate = 1560.0
    actual = max(estimate * factor, 2.0)
    late, looks = _simulate(actual, estimate, PaceModel())
    assert late <= max(5.0, 0.05 * actual) + 1e-6
    assert looks <= 40


def test_a_task_of_seconds_is_probed_seconds_after_it_was_accepted() -> None:
    task = TaskHistory(accepted_at=T0, estimate_s=1560.0, last_seen=T0)
    ideal, _latest = look_window(task, PaceModel().predict(1560.0, 100.0), 1.0)
    assert ideal == pytest.approx(T0 + PROBE_S)


def test_progress_rules_out_a_model_that_is_too_fast() -> None:
    """10 % done after 1,000 s: whatever the estimate said, it cannot end before ~9,000 s."""
    task = TaskHistory(accepted_at=T0, estimate_s=600.0, last_seen=T0)
    task.observe(T0 + 1000.0, "running", 10, T0)
    end, low = predicted_end(task, Prediction(600.0, 0.9))
    assert low >= T0 + 1000.0 * 100 / 11 - 1
    assert end == pytest.approx(T0 + 1000.0 * 100 / 10.5)


def test_a_setup_phase_at_zero_percent_does_not_make_the_end_late() -> None:
    """Progress that starts late: the rate between two listings gives the earlier end."""
    task = TaskHistory(accepted_at=T0, estimate_s=2000.0, last_seen=T0)
    task.observe(T0 + 1000.0, "running", 10, T0)  # a long setup, then 1 %/10 s
    task.observe(T0 + 1300.0, "running", 40, T0)
    end, _low = predicted_end(task, Prediction(2000.0, 0.5))
    assert end == pytest.approx(T0 + 1300.0 + 59.5 * 10.0, rel=0.01)


def test_a_queued_task_cannot_end_before_it_starts() -> None:
    task = TaskHistory(accepted_at=T0, estimate_s=600.0, last_seen=T0)
    task.observe(T0 + 300.0, "waiting", 0, None)
    end, low = predicted_end(task, Prediction(600.0, 0.5))
    assert end == T0 + 900.0 and low == T0 + 600.0


def test_one_listing_serves_tasks_whose_ideal_falls_before_every_latest() -> None:
    windows = [(100.0, 110.0), (105.0, 200.0), (120.0, 130.0)]
    assert next_poll(windows, now=0.0, last_poll=0.0, poll_interval=5.0) == 105.0


def test_never_sooner_than_the_poll_interval_after_the_last_listing() -> None:
    assert next_poll([(10.0, 11.0)], now=10.0, last_poll=8.0, poll_interval=5.0) == 13.0


def test_the_pace_model_refits_overhead_and_throughput() -> None:
    pace = PaceModel()
    for size in (20.0, 100.0, 250.0, 400.0, 500.0, 60.0, 180.0, 320.0):
        pace.learn(60.0 + size * 15.0, size, 30.0 + size * 6.0)  # a cloud of 10 GB/min, 30 s setup
    pred = pace.predict(60.0 + 300.0 * 15.0, 300.0)
    assert pred.duration_s == pytest.approx(30.0 + 300.0 * 6.0, rel=1e-6)
    assert pred.known and pred.low > 0.9  # eight restores that fit exactly: a narrow range


def test_a_spread_pace_widens_the_plausible_range() -> None:
    pace = PaceModel()
    for i, f in enumerate((0.5, 2.0, 0.7, 1.6, 1.0, 0.6, 1.9, 1.2)):
        pace.learn(1000.0, 100.0 + i, 1000.0 * f)
    assert pace.predict(1000.0, 104.0).low < 0.6


def test_end_share_leaves_room_under_the_five_percent_target() -> None:
    assert END_SHARE < 0.05 and not math.isnan(END_SHARE)


def test_the_pace_model_refits_every_sixteenth_of_its_samples() -> None:
    """Each refit makes every task in flight recompute its window: while few restores
    finished each one refits, then every n/16 new ones do, and from that refit on the
    prediction is the one of a model fitted afresh on the same samples."""

    def fresh(samples: Iterable[tuple[float, float, float]]) -> float:
        model = PaceModel()
        for sample in samples:
            model.learn(*sample)
        return model.predict(1000.0, 120.0).duration_s

    pace = PaceModel()
    for i in range(4):
        pace.learn(1000.0, 100.0 + i, 10.0 * (100.0 + i))
    assert pace.version == 4  # few samples: every one counts at once
    while len(pace.samples) < 256 or pace._unfitted:  # a full window, just refitted
        pace.learn(1000.0, 100.0 + len(pace.samples) % 50, 10.0 * (100.0 + len(pace.samples) % 50))
    before, stale = pace.version, pace.predict(1000.0, 120.0).duration_s
    for i in range(15):  # the cloud turned 3x slower
        pace.learn(1000.0, 100.0 + 3 * i, 30.0 * (100.0 + 3 * i))
        assert pace.predict(1000.0, 120.0).duration_s == stale  # 15 < 256 / 16: not yet
    assert pace.version == before and fresh(pace.samples) > stale
    pace.learn(1000.0, 145.0, 30.0 * 145.0)
    assert pace.version == before + 1
    assert pace.predict(1000.0, 120.0).duration_s == fresh(pace.samples) > stale
