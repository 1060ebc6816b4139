from __future__ import annotations

import pytest

from planner.errors import UserError
from planner.report.calibrate import calibrate, render_calibration
from planner.report.model import RunReport, build_report

from .conftest import synthetic_events


@pytest.mark.parametrize(
    ("overhead", "throughput", "noise"), [(60.0, 4.0, 0.0), (47.0, 3.3, 0.0), (90.0, 12.5, 4.0)]
)
def test_recovers_overhead_and_throughput(overhead: float, throughput: float, noise: float) -> None:
    ev = synthetic_events(300, overhead_s=overhead, gb_per_min=throughput, noise_s=noise, seed=7)
    cal = calibrate(build_report(ev))
    assert cal.points == 300
    assert cal.overhead_s == pytest.approx(overhead, rel=0.01)
    assert cal.throughput_gb_per_min == pytest.approx(throughput, rel=0.01)
    # times are logged to the millisecond; with noise the residual is the noise
    assert cal.residual_s == pytest.approx(noise, abs=0.01)


def test_failed_restores_are_not_fitted() -> None:
    # 4 waves of 10; every 4th restore of a wave fails: 2 per wave
    ev = synthetic_events(40, overhead_s=30.0, gb_per_min=6.0, fail_every=4)
    report = build_report(ev)
    assert report.counts["failed"] == 8
    assert calibrate(report).points == 32


def test_text_to_paste_into_the_plan(report: RunReport) -> None:
    text = render_calibration(report, calibrate(report))
    assert text == (
        "Calibrated from 8 succeeded restores of run 20260301T020000Z-3f9a:\n"
        "  overhead      62.3 s\n"
        "  throughput    4.02 GB/min\n"
        "  fit residual  1.4 s (root mean square)\n"
        "\n"
        "Paste into the plan:\n"
        "\n"
        "defaults:\n"
        "  restore_overhead: 1m2s\n"
        "  throughput_gb_per_min: 4.02\n"
    )


def test_needs_two_sizes() -> None:
    ev = synthetic_events(1, waves=1)
    with pytest.raises(UserError) as exc:
        calibrate(build_report(ev))
    assert exc.value.message == (
        "cannot calibrate from run 20260301T020000Z-big1: it has 1 succeeded restore(s) with cloud times "
        "and sizes, of 1 different size(s)"
    )
