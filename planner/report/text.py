"""Small text helpers shared by the report renderers: times, durations, ratios, labels."""

from __future__ import annotations

from datetime import UTC, datetime

from planner.render.fmt import duration
from planner.report.model import RunReport
from planner.timefmt import rfc3339_s

OUTCOME_WORDS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "skipped": "skipped",
    "unknown": "outcome unknown",
}


def wave_name(wave: int | None) -> str:
    return "no wave" if wave is None else f"wave {wave}"


def dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return (
        f"{seconds:.1f}s" if 0 < seconds < 10 and seconds != round(seconds) else duration(seconds)
    )


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def spans_days(report: RunReport) -> bool:
    a, b = report.started_at, report.finished_at
    return bool(a and b and a.date() != b.date())


def clock(when: datetime | None, full: bool = False) -> str:
    """``02:11:06`` (UTC), or the full RFC 3339 time when the run crosses midnight."""
    if when is None:
        return "-"
    return rfc3339_s(when) if full else when.astimezone(UTC).strftime("%H:%M:%S")


def started_line(report: RunReport) -> str:
    """When the run started; and, when it adopted restores an earlier apply started
    before it, when the first of them did (what its times count from)."""
    line = clock(report.started_at, True)
    if report.adopted:
        line += f" (it adopted {report.adopted:,} restores an earlier apply started"
        if report.origin and report.started_at and report.origin < report.started_at:
            line += f", the first at {clock(report.origin, True)}: times count from then"
        line += ")"
    return line


def result(report: RunReport) -> str:
    """One word for the whole run."""
    if report.interrupted and report.finished:
        return "interrupted"
    if not report.finished:
        return "incomplete"
    if report.counts.get("failed") or report.counts.get("unknown") or report.counts.get("skipped"):
        return "failed"
    return "succeeded"


def counts_line(report: RunReport) -> str:
    c = report.counts
    total = sum(c.get(o, 0) for o in OUTCOME_WORDS)
    parts = [
        f"{c.get(o, 0):,} {word}"
        for o, word in OUTCOME_WORDS.items()
        if c.get(o, 0) or o == "succeeded"
    ]
    line = f"{total:,} restores: " + ", ".join(parts)
    if c.get("unchanged"):
        line += f"; {c['unchanged']:,} unchanged (not restored)"
    return line


def result_detail(report: RunReport) -> str:
    word = result(report)
    if not report.finished:
        return f"{word}: the run log ends without run_finished (the apply was killed?)"
    code = f" (exit code {report.exit_code})" if report.exit_code is not None else ""
    return word + code


def noticing_line(report: RunReport) -> str:
    """How soon apply saw the tasks' ends, or "-" when the log cannot tell."""
    n = report.noticing
    odd = sum(r.clocks_disagree for r in report.restores)
    # ends seen "before" the cloud's end time: the clocks disagree, said rather than hidden
    tail = (
        f"; {odd:,} not counted: seen before the cloud's end time (the run log's clock "
        "and the cloud's disagree)"
        if odd
        else ""
    )
    if n is None:
        return tail[2:] if odd else "-"
    return (
        f"p50 {dur(n.p50_s)}, p95 {dur(n.p95_s)}, max {dur(n.max_s)} after the cloud's end "
        f"(p95 {n.p95_share * 100:.1f} % of a restore's duration; {n.count:,} ends{tail})"
    )
