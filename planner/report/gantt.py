"""Timeline layout shared by the Mermaid and SVG Gantt charts: which rows, where, what ticks.

Owns choosing the rows of a chart (capped for huge runs, keeping the rows a
reader needs: the critical path, failures, unknown outcomes) and the time axis.
Does not draw anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from planner.report.model import RestoreResult, RunReport

MAX_ROWS = 200
_NICE_STEPS_S = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
)
_PRIORITY = {"failed": 1, "unknown": 2, "skipped": 3, "succeeded": 4}


@dataclass(frozen=True)
class Bar:
    restore: RestoreResult
    start: datetime
    end: datetime  # unknown outcome: the end of the run; skipped: when it was skipped
    critical: bool  # on the critical path taken


def _bar(r: RestoreResult, run_end: datetime | None, critical: set[str]) -> Bar | None:
    if r.outcome == "skipped":
        at = r.skipped_at
        return Bar(r, at, at, False) if at else None
    if r.start is None:
        return None
    end = r.end or max(run_end or r.start, r.start)
    return Bar(r, r.start, end, r.address in critical)


def _wave_order(b: Bar) -> tuple[int, int, datetime, str]:
    w = b.restore.wave
    return (0 if w is None else 1, w or 0, b.start, b.restore.address)


def chart_bars(
    report: RunReport, cap: int = MAX_ROWS, skipped: bool = True
) -> tuple[list[Bar], int]:
    """Bars in display order (wave, start, address) and how many rows were left out."""
    critical = {s.address for s in report.critical_path}
    run_end = report.finished_at or report.last_end
    bars = [
        b
        for r in report.restores
        if (skipped or r.outcome != "skipped") and (b := _bar(r, run_end, critical)) is not None
    ]
    dropped = 0
    if len(bars) > cap:
        # keep what a reader came for; among the rest, the longest restores
        ranked = sorted(
            bars,
            key=lambda b: (
                0 if b.critical else _PRIORITY[b.restore.outcome],
                -(b.end - b.start).total_seconds(),
                b.restore.address,
            ),
        )
        dropped = len(bars) - cap
        bars = ranked[:cap]
    return sorted(bars, key=_wave_order), dropped


def axis(span_s: float, max_ticks: int = 10) -> list[float]:
    """Tick offsets in seconds from the chart start: 0, step, 2*step, ... with a round step."""
    span_s = max(span_s, 1.0)
    step = next((s for s in _NICE_STEPS_S if span_s / s <= max_ticks), _NICE_STEPS_S[-1])
    while span_s / step > max_ticks:
        step *= 2
    n = int(span_s // step)
    return [float(i * step) for i in range(n + 1)]


def tick_label(offset_s: float) -> str:
    """``+0:00``, ``+12:30``, ``+1:05:00`` (time since the chart start)."""
    total = round(offset_s)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"+{h}:{m:02d}:{s:02d}" if h else f"+{m}:{s:02d}"
