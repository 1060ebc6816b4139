from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from planner.report import render_html, render_junit, render_markdown
from planner.report.markdown import mermaid_label
from planner.report.model import RunReport, build_report

from .conftest import synthetic_events


def test_mermaid_labels_avoid_what_mermaid_chokes_on() -> None:
    assert mermaid_label('app["app-01"]') == "app[app-01]"
    assert mermaid_label('web["eu:west#1"]') == "web[eu_west_1]"
    assert mermaid_label('x["a;b%%c&d"]') == "x[a_b__c_d]"
    assert mermaid_label("section") == "- section"


def _gantt_lines(md: str) -> list[str]:
    body = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in body.splitlines()]


def test_markdown_gantt_tags_each_outcome(report: RunReport) -> None:
    lines = _gantt_lines(render_markdown(report))
    assert lines[:4] == [
        "gantt",
        "title Run 20260301T020000Z-3f9a",
        "dateFormat YYYY-MM-DD HH:mm:ss",
        "axisFormat %H:%M",
    ]
    assert [x for x in lines if x.startswith("section")] == [
        "section Wave 1",
        "section Wave 2",
        "section Wave 3",
    ]
    tasks = {x.split(" :")[0]: x.split(" :")[1] for x in lines if " :" in x}
    assert tasks["app[app-02]"] == "crit, t5, 2026-03-01 02:11:06, 2026-03-01 02:13:06"
    # the critical path taken (active) never looks like a failure (crit)
    assert tasks["web[eu_west_1]"].startswith("active, t9, ")
    assert tasks["db[db-01]"].startswith("active, t0, ")
    assert tasks["cache"].startswith("done, ")
    assert tasks["report"] == "t8, 2026-03-01 02:19:40, 2026-03-01 02:22:30"  # unknown: plain
    assert len(tasks) == 10  # skipped restores have no bar
    for name in tasks:
        assert not re.search(r'[:#";]', name)


def test_markdown_opens_with_the_summary(report: RunReport) -> None:
    md = render_markdown(report)
    assert md.splitlines()[:5] == [
        "## Drill report: run `20260301T020000Z-3f9a`",
        "",
        "| | |",
        "|---|---|",
        "| Result | interrupted (exit code 130) |",
    ]
    assert '| `web["web-03"]` | wave 3 | `app["app-02"]` failed |' in md
    assert (
        '| `app["app-02"]` | wave 2 | `BackupService.2011` | disk status does not allow restore |'
        in md
    )


def test_markdown_of_a_thousand_restores_fits_a_pull_request_comment() -> None:
    report = build_report(synthetic_events(1000, fail_every=50))
    md = render_markdown(report)
    tasks = [x for x in _gantt_lines(md) if " :" in x]
    assert len(tasks) == 200
    assert (
        "The chart shows 200 of 1,000 restores: the critical path, failures and the longest." in md
    )
    # every failure stays on the chart
    assert sum(x.split(" :")[1].startswith("crit, t") for x in tasks) == 20
    assert len(md) < 65_536


def test_html_is_self_contained_and_escaped(report: RunReport) -> None:
    page = render_html(report)
    assert not re.search(r"<script|<link|<img|@import|url\(|\bsrc=|\bhref=", page, re.IGNORECASE)
    assert "cache-&lt;1&gt;&amp;" in page and "cache-<1>" not in page
    assert page.count('<rect class="bar ') == 12
    assert page.count("<title>") == 13  # the page's and one tooltip per bar
    assert '<rect class="bar skipped"' in page and '<rect class="bar failed"' in page
    assert '<rect class="bar succeeded critical"' in page


def test_html_caps_rows_with_a_note() -> None:
    report = build_report(synthetic_events(1000))
    page = render_html(report)
    assert page.count('<rect class="bar ') == 200
    assert "The chart shows 200 of 1000 restores" in page
    assert page.count('<tr class="succeeded">') == 1000


def test_junit_counts_and_cases(report: RunReport) -> None:
    root = ET.fromstring(render_junit(report))
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "12",
        "failures": "1",
        "errors": "1",
        "skipped": "2",
    }
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["wave 1", "wave 2", "wave 3"]
    cases: dict[str, Any] = {str(c.get("name")): c for c in root.iter("testcase")}
    failure = cases['app["app-02"]'].find("failure")
    assert (failure.get("type"), failure.get("message")) == (
        "BackupService.2011",
        "disk status does not allow restore",
    )
    assert (
        cases['web["web-02"]'].find("skipped").get("message") == 'dependency app["app-02"] failed'
    )
    assert (
        cases['db["db-01"]'].get("classname") == "wave 1"
        and cases['db["db-01"]'].get("time") == "660.000"
    )
