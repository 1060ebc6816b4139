"""An inline SVG Gantt chart of a run: a row per restore, grouped and striped by wave.

Owns the drawing only (positions come from ``gantt.chart_bars`` and ``axis``).
Every piece of text goes through ``html.escape``; the result is a string of
safe markup for the HTML page.
"""

from __future__ import annotations

from html import escape

from planner.render.fmt import clean
from planner.report.gantt import MAX_ROWS, Bar, axis, chart_bars, tick_label
from planner.report.model import RunReport
from planner.report.text import OUTCOME_WORDS, clock, dur, wave_name

WIDTH = 1200
LABEL_W = 280
ROW_H = 18
TOP = 34
_RIGHT_PAD = 20
_LABEL_CHARS = 40


def _e(text: str) -> str:
    return escape(clean(text), quote=True)


def _label(address: str) -> str:
    return address if len(address) <= _LABEL_CHARS else address[: _LABEL_CHARS - 1] + "…"


def _tooltip(b: Bar) -> str:
    r = b.restore
    parts = [f"{r.address} ({wave_name(r.wave)}): {OUTCOME_WORDS[r.outcome]}"]
    if r.outcome == "skipped":
        parts.append(
            f"skipped at {clock(r.skipped_at)}: "
            + (
                f"{', '.join(r.skipped_because)} failed"
                if r.skipped_because
                else r.skipped_reason or "a dependency failed"
            )
        )
    else:
        parts.append(
            f"{clock(r.start)} to {clock(r.end) if r.end else '?'} ({dur(r.duration_s)}; estimate {dur(r.estimate_s)})"
        )
    if r.error_code:
        parts.append(f"{r.error_code}: {r.error_message or ''}")
    if b.critical:
        parts.append("on the critical path taken")
    return escape("\n".join(clean(p) for p in parts), quote=True)


def render_svg(report: RunReport, cap: int = MAX_ROWS) -> tuple[str, int, int]:
    """The ``<svg>`` markup, the number of rows drawn and the number left out."""
    bars, dropped = chart_bars(report, cap)
    if not bars:
        return "", 0, dropped
    t0 = min(b.start for b in bars)
    span = max(max((b.end - t0).total_seconds() for b in bars), 1.0)
    chart_w = WIDTH - LABEL_W - _RIGHT_PAD
    height = TOP + ROW_H * len(bars) + 10

    def x(seconds: float) -> float:
        return LABEL_W + chart_w * seconds / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Timeline of run {_e(report.run_id)}">'
    ]
    # wave stripes first, so bars and grid lines sit on top
    groups: list[tuple[int | None, int, int]] = []
    for i, b in enumerate(bars):
        if groups and groups[-1][0] == b.restore.wave:
            groups[-1] = (groups[-1][0], groups[-1][1], i + 1)
        else:
            groups.append((b.restore.wave, i, i + 1))
    for n, (wave, first, last) in enumerate(groups):
        y = TOP + first * ROW_H
        out.append(
            f'<rect class="wave wave-{n % 2}" x="0" y="{y}" width="{WIDTH}" height="{(last - first) * ROW_H}"/>'
        )
        out.append(
            f'<text class="wave-label" x="{WIDTH - 6}" y="{y + 12}" text-anchor="end">{_e(wave_name(wave))}</text>'
        )
    for t in axis(span):
        xt = x(t)
        out.append(
            f'<line class="tick" x1="{xt:.1f}" y1="{TOP - 6}" x2="{xt:.1f}" y2="{height - 10}"/>'
        )
        out.append(
            f'<text class="tick-label" x="{xt:.1f}" y="{TOP - 10}" text-anchor="middle">{_e(tick_label(t))}</text>'
        )
    for i, b in enumerate(bars):
        y = TOP + i * ROW_H
        r = b.restore
        x0 = x((b.start - t0).total_seconds())
        w = max(x((b.end - t0).total_seconds()) - x0, 2.0)
        if r.outcome == "skipped":
            x0, w = x0 - 3, 6.0
        cls = f"bar {r.outcome}" + (" critical" if b.critical else "")
        out.append(f'<text class="row-label" x="6" y="{y + 13}">{_e(_label(r.address))}</text>')
        out.append(
            f'<rect class="{cls}" x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" rx="2">'
            f"<title>{_tooltip(b)}</title></rect>"
        )
    out.append("</svg>")
    return "\n".join(out), len(bars), dropped
