"""Fit the plan's duration model to a run: duration = overhead + size / throughput.

Owns the least-squares fit over succeeded restores timed by the cloud (task
started_at/ended_at and size_gb in the run log) and its text. The result is
pasted into a plan's ``defaults:`` so the next estimate matches this cloud.
"""

from __future__ import annotations

import math

from pydantic import BaseModel

from planner.errors import UserError
from planner.report.model import RunReport


class Calibration(BaseModel):
    points: int
    overhead_s: float
    throughput_gb_per_min: float
    residual_s: float  # root mean square of duration - fitted duration


def calibrate(report: RunReport) -> Calibration:
    pts = [
        (r.size_gb, r.duration_s)
        for r in report.restores
        if r.outcome == "succeeded"
        and r.timed_by == "cloud"
        and r.size_gb is not None
        and r.duration_s is not None
    ]
    sizes = {s for s, _ in pts}
    if len(pts) < 2 or len(sizes) < 2:
        raise UserError(
            f"cannot calibrate from run {report.run_id}: it has {len(pts)} succeeded restore(s) with cloud times "
            f"and sizes, of {len(sizes)} different size(s)",
            hint="calibrate from a run with at least two succeeded restores of different sizes",
        )
    n = len(pts)
    mx = sum(s for s, _ in pts) / n
    my = sum(d for _, d in pts) / n
    sxx = sum((s - mx) ** 2 for s, _ in pts)
    sxy = sum((s - mx) * (d - my) for s, d in pts)
    slope = sxy / sxx  # seconds per GB
    overhead = my - slope * mx
    if slope <= 0:
        raise UserError(
            f"cannot calibrate from run {report.run_id}: larger restores were not slower "
            f"({n} points), so no throughput fits",
            hint="calibrate from a run whose restores differ clearly in size",
        )
    residual = math.sqrt(sum((d - overhead - slope * s) ** 2 for s, d in pts) / n)
    return Calibration(
        points=n, overhead_s=overhead, throughput_gb_per_min=60.0 / slope, residual_s=residual
    )


def _duration_literal(seconds: float) -> str:
    """The plan's duration syntax (whole seconds): ``45s``, ``1m5s``, ``0s``."""
    total = max(0, round(seconds))
    m, s = divmod(total, 60)
    return f"{m}m{s}s" if m and s else (f"{m}m" if m else f"{s}s")


def render_calibration(report: RunReport, cal: Calibration) -> str:
    lines = [
        f"Calibrated from {cal.points} succeeded restores of run {report.run_id}:",
        f"  overhead      {cal.overhead_s:.1f} s",
        f"  throughput    {cal.throughput_gb_per_min:.2f} GB/min",
        f"  fit residual  {cal.residual_s:.1f} s (root mean square)",
    ]
    if cal.overhead_s < 0:
        lines.append("  note: the fitted overhead is negative; the plan default is set to 0s")
    lines += [
        "",
        "Paste into the plan:",
        "",
        "defaults:",
        f"  restore_overhead: {_duration_literal(cal.overhead_s)}",
        f"  throughput_gb_per_min: {cal.throughput_gb_per_min:.2f}",
    ]
    return "\n".join(lines) + "\n"
