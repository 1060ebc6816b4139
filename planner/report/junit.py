"""RunReport -> JUnit XML for CI: a testsuite per wave, a testcase per restore.

Owns the XML shape only. A failed restore is a ``<failure>`` typed by its cloud
error code; a skipped one is ``<skipped>`` naming the failed dependency; one
whose outcome the run never learnt is an ``<error>``, because CI should not pass
a drill it cannot vouch for.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.render.fmt import clean
from planner.report.model import RestoreResult, RunReport
from planner.report.text import wave_name


def _secs(value: float | None) -> str:
    return f"{value or 0.0:.3f}"


def _because(r: RestoreResult) -> str:
    deps = r.skipped_because
    if not deps:
        return clean(r.skipped_reason) or "a dependency failed"
    return (
        f"dependency {clean(deps[0])} failed"
        if len(deps) == 1
        else f"dependencies {clean(', '.join(deps))} failed"
    )


def _case(suite: ET.Element, r: RestoreResult, classname: str) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=classname, name=clean(r.address), time=_secs(r.duration_s)
    )
    if r.outcome == "failed":
        msg = clean(r.error_message or r.error_code or "restore failed")
        fail = ET.SubElement(case, "failure", message=msg, type=clean(r.error_code or "unknown"))
        fail.text = f"{clean(r.error_code or '')}: {msg}\ntask {clean(r.task_id or '-')}"
    elif r.outcome == "skipped":
        ET.SubElement(case, "skipped", message=_because(r))
    elif r.outcome == "unknown":
        ET.SubElement(
            case,
            "error",
            message="outcome unknown: the run ended before the restore finished",
            type="unknown",
        ).text = f"task {clean(r.task_id or '-')}"
    if r.target is not None:
        ET.SubElement(
            case, "system-out"
        ).text = f"target {clean(r.target.kind)} {clean(r.target.id)} ({clean(r.target.name)}), backup {clean(r.backup_id)}"


def render_junit(report: RunReport) -> str:
    root = ET.Element("testsuites", name=f"restore-planner drill {clean(report.run_id)}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for w in report.waves:
        rows = [r for r in report.restores if r.wave == w.wave]
        name = wave_name(w.wave)
        stats = {
            "tests": len(rows),
            "failures": w.outcomes["failed"],
            "errors": w.outcomes["unknown"],
            "skipped": w.outcomes["skipped"],
        }
        suite = ET.SubElement(
            root, "testsuite", {"name": name} | {k: str(v) for k, v in stats.items()}
        )
        suite.set("time", _secs(w.wall_s))
        if w.first_start:
            suite.set("timestamp", w.first_start.strftime("%Y-%m-%dT%H:%M:%S"))
        for r in rows:
            _case(suite, r, name)
        for k, v in stats.items():
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", _secs(report.makespan_s))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
