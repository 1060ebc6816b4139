"""RunReport -> Markdown for a pull request: summary first, then details and a Mermaid Gantt.

Owns the Markdown and Mermaid text only. Long lists are capped, and the whole is
kept under ``MAX_CHARS`` (a pull-request comment: GitHub allows 65,536 characters)
whatever the run's size or its number of waves: per-wave tables go in while they
fit, and a note says what was left out. The HTML and JSON reports always list
every restore.
"""

from __future__ import annotations

import re

from planner.render.fmt import clean
from planner.report.gantt import MAX_ROWS, chart_bars
from planner.report.model import RestoreResult, RunReport
from planner.report.text import (
    clock,
    counts_line,
    dur,
    noticing_line,
    ratio,
    result_detail,
    spans_days,
    started_line,
    wave_name,
)

MAX_CHARS = 60_000  # the whole report, as plan's Markdown (GitHub comments: 65,536)
LIST_CAP = 50  # rows per failure/skipped/unknown list, waves in the summary, critical path steps
WAVE_ROWS_FULL = 200  # list every restore per wave up to this many restores in the run
WAVE_ROWS_CAPPED = 20  # beyond that, the longest restores of each wave
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
# anything else in a Mermaid task name may end the name (:), start a comment or
# entity (#, %%, &), or close a quoted string ("): replace it
_MERMAID_UNSAFE = re.compile(r"[^\w .\-\[\]()/'+=@]")
_MERMAID_KEYWORDS = re.compile(
    r"^(title|section|dateformat|axisformat|tickinterval|excludes|includes|todaymarker|weekday|"
    r"inclusiveenddates|topaxis|acctitle|accdescr|click|gantt)\b",
    re.IGNORECASE,
)
# Mermaid has four looks (plain, done, active, crit): failed restores are red
# (crit), the critical path taken is highlighted (active), other finished
# restores are grey (done), an unknown outcome stays plain; so the two rows a
# reader looks for first never look alike.
_TAGS = {"succeeded": "done", "failed": "crit", "unknown": ""}


def code(text: str) -> str:
    """An inline code span that survives a table cell."""
    text = clean(text).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", clean(text).replace("\n", " "))


def mermaid_label(address: str) -> str:
    """``app["app-01"]`` -> ``app[app-01]``; never a Mermaid keyword, colon, hash or quote."""
    label = _MERMAID_UNSAFE.sub("_", address.replace('"', "")).strip() or "restore"
    return "- " + label if _MERMAID_KEYWORDS.match(label) else label


def _summary(r: RunReport, full: bool) -> list[str]:
    est = r.estimated_makespan_s
    lines = [
        "| | |",
        "|---|---|",
        f"| Result | {md_text(result_detail(r))} |",
        f"| Restores | {counts_line(r)} |",
        f"| Makespan | {dur(r.makespan_s)} (estimate {dur(est)}, actual / estimate {ratio(r.makespan_ratio)}) |",
        f"| Ends noticed | {noticing_line(r)} |",
        f"| Started | {md_text(started_line(r))} |",
        f"| Parallelism | {r.parallelism if r.parallelism is not None else '-'} |",
        "",
        "| Wave | Restores | Succeeded | Failed | Skipped | Unknown | First start | Last end | Recovery time | Ready after |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for w in r.waves[:LIST_CAP]:
        o = w.outcomes
        lines.append(
            f"| {wave_name(w.wave)} | {w.count:,} | {o['succeeded']:,} | {o['failed']:,} | {o['skipped']:,} "
            f"| {o['unknown']:,} | {clock(w.first_start, full)} | {clock(w.last_end, full)} "
            f"| {dur(w.wall_s)} | {dur(w.ready_after_s)} |"
        )
    if len(r.waves) > LIST_CAP:
        lines.append(
            f"| ... and {len(r.waves) - LIST_CAP:,} more waves (see the HTML or JSON report) | | | | | | | | | |"
        )
    lines += [
        "",
        "Recovery time: first start to last end in the wave. Ready after: from the start of the run"
        + (" (or of the first restore it adopted, if earlier)." if r.adopted else "."),
    ]
    return lines


def _capped(rows: list[RestoreResult], what: str) -> tuple[list[RestoreResult], list[str]]:
    if len(rows) <= LIST_CAP:
        return rows, []
    return rows[:LIST_CAP], [
        "",
        f"... and {len(rows) - LIST_CAP:,} more {what} (see the HTML or JSON report).",
    ]


def _problems(r: RunReport, full: bool) -> list[str]:
    out: list[str] = []
    failed = [x for x in r.restores if x.outcome == "failed"]
    if failed:
        shown, note = _capped(failed, "failures")
        out += [
            "",
            f"### Failed ({len(failed):,})",
            "",
            "| Address | Wave | Error code | Message | Task | Ended |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {code(x.address)} | {wave_name(x.wave)} | {code(x.error_code or '-')} | {md_text(x.error_message or '')} "
            f"| {code(x.task_id or '-')} | {clock(x.end, full)} |"
            for x in shown
        ] + note
    skipped = [x for x in r.restores if x.outcome == "skipped"]
    if skipped:
        shown, note = _capped(skipped, "skipped restores")
        out += [
            "",
            f"### Skipped ({len(skipped):,})",
            "",
            "| Address | Wave | Because |",
            "|---|---|---|",
        ]
        out += [
            f"| {code(x.address)} | {wave_name(x.wave)} | {_skipped_why(x)} |" for x in shown
        ] + note
    unknown = [x for x in r.restores if x.outcome == "unknown"]
    if unknown:
        shown, note = _capped(unknown, "restores of unknown outcome")
        out += [
            "",
            f"### Outcome unknown ({len(unknown):,})",
            "",
            "Started, but the run ended before their outcome was recorded; the next plan reconciles them.",
            "",
            "| Address | Wave | Started | Task |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {code(x.address)} | {wave_name(x.wave)} | {clock(x.start, full)} | {code(x.task_id or '-')} |"
            for x in shown
        ] + note
    return out


def _critical(r: RunReport, full: bool) -> list[str]:
    out = ["", "### Critical path taken", ""]
    if not r.critical_path:
        return [*out, "No restore finished."]
    for i, s in enumerate(r.critical_path[:LIST_CAP], 1):
        wait = f", after waiting {dur(s.wait_s)}" if s.wait_s >= 1 else ""
        out.append(
            f"{i}. {code(s.address)} {clock(s.start, full)} to {clock(s.end, full)} ({dur(s.duration_s)}{wait})"
        )
    if len(r.critical_path) > LIST_CAP:
        out.append(
            f"\n... and {len(r.critical_path) - LIST_CAP:,} more steps (see the HTML or JSON report)."
        )
    taken = [s.address for s in r.critical_path]
    estimated = r.estimated_critical_path
    if estimated:
        same = "is the same as" if taken == estimated else "differs from"
        if len(estimated) > LIST_CAP:
            path = (
                f"{len(estimated):,} restores, from {code(estimated[0])} to {code(estimated[-1])}"
            )
        else:
            path = " → ".join(code(a) for a in estimated)
        out += ["", f"This {same} the estimated critical path: {path}."]
    return out


def _gantt(r: RunReport) -> list[str]:
    bars, dropped = chart_bars(r, MAX_ROWS, skipped=False)
    out = ["", "### Timeline", ""]
    if not bars:
        return [*out, "No restore started."]
    notes = []
    if dropped:
        notes.append(
            f"The chart shows {len(bars):,} of {len(bars) + dropped:,} restores: the critical path, failures and the longest."
        )
    if r.counts.get("skipped"):
        notes.append("Skipped restores have no bar.")
    notes.append(
        "Failed restores are red, the critical path taken is highlighted, other finished restores are grey. Times are UTC."
    )
    out += [
        " ".join(notes),
        "",
        "```mermaid",
        "gantt",
        f"    title Run {mermaid_label(r.run_id)}",
        "    dateFormat YYYY-MM-DD HH:mm:ss",
        "    axisFormat %H:%M",
    ]
    section: object = object()
    for i, b in enumerate(bars):
        if b.restore.wave != section:
            section = b.restore.wave
            out.append(f"    section {wave_name(b.restore.wave).capitalize()}")
        tag = _TAGS[b.restore.outcome]
        if b.critical and b.restore.outcome != "failed":
            tag = "active"
        fmt = "%Y-%m-%d %H:%M:%S"
        out.append(
            f"    {mermaid_label(b.restore.address)} :{tag + ', ' if tag else ''}t{i}, {b.start.strftime(fmt)}, {b.end.strftime(fmt)}"
        )
    return [*out, "```"]


def _per_wave(r: RunReport, full: bool) -> list[list[str]]:
    """One section per wave, in wave order."""
    sections: list[list[str]] = []
    capped = len(r.restores) > WAVE_ROWS_FULL
    by_wave: dict[int | None, list[RestoreResult]] = {}
    for x in r.restores:  # grouped once: a run may have as many waves as restores
        by_wave.setdefault(x.wave, []).append(x)
    for w in r.waves:
        rows = by_wave.get(w.wave, [])
        head = f"### {wave_name(w.wave).capitalize()}: {w.count:,} restores, recovery time {dur(w.wall_s)}"
        out = ["", head, ""]
        sections.append(out)
        if capped:
            rows = sorted(rows, key=lambda x: -(x.duration_s or 0))[:WAVE_ROWS_CAPPED]
            out += [
                f"The {len(rows)} longest of {w.count:,}; the HTML and JSON reports list every restore.",
                "",
            ]
        out += [
            "| Address | Target | Start | End | Duration | Estimate | Actual / estimate | Outcome |",
            "|---|---|---|---|---:|---:|---:|---|",
        ]
        for x in rows:
            target = code(x.target.name or x.target.id) if x.target else "-"
            out.append(
                f"| {code(x.address)} | {target} | {clock(x.start, full)} | {clock(x.end, full)} | {dur(x.duration_s)} "
                f"| {dur(x.estimate_s)} | {ratio(x.ratio)} | {x.outcome} |"
            )
    return sections


_CUT_NOTE = 300  # room kept for the note saying what was left out


def render_markdown(report: RunReport, max_chars: int = MAX_CHARS) -> str:
    full = spans_days(report)
    lines = [f"## Drill report: run {code(report.run_id or 'unknown')}", ""]
    lines += _summary(report, full)
    lines += _problems(report, full)
    lines += _critical(report, full)
    lines += _gantt(report)
    size = sum(len(x) + 1 for x in lines)
    sections = _per_wave(report, full)
    for i, section in enumerate(sections):
        more = sum(len(x) + 1 for x in section)
        if size + more > max_chars - _CUT_NOTE:
            left = len(sections) - i
            lines += ["", f"_... and {left:,} more waves' tables, left out to fit a pull-request comment; "
                      "the HTML and JSON reports list every restore._"]  # fmt: skip
            break
        lines += section
        size += more
    text = "\n".join(lines) + "\n"
    if len(text) > max_chars:  # even the head does not fit: cut at a line, say so
        note = "\n\n_... report cut to fit a pull-request comment; the HTML and JSON reports have all of it._\n"
        text = text[: text.rfind("\n", 0, max_chars - len(note) - 4) + 1].rstrip("\n")
        if text.count("\n```") % 2:  # cut inside the chart: close its fence
            text += "\n```"
        text += note
    return text


def _skipped_why(x: RestoreResult) -> str:
    if x.skipped_because:
        return f"{', '.join(code(a) for a in x.skipped_because)} failed"
    return md_text(x.skipped_reason) if x.skipped_reason else "- failed"
