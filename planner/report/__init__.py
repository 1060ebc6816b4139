"""Drill reports: a run log (``runs/<run-id>.jsonl``) rendered as Markdown, HTML, JUnit or JSON.

``build_report`` turns events into a ``RunReport``; each renderer reads only
that model, so the formats cannot disagree. Reading run files is
``planner.apply.runlog``'s job; the CLI glue is ``planner.cli.report``.
"""

from __future__ import annotations

from collections.abc import Callable

from planner.report.html import render_html
from planner.report.junit import render_junit
from planner.report.markdown import render_markdown
from planner.report.model import RunReport, build_report


def render_json(report: RunReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


RENDERERS: dict[str, Callable[[RunReport], str]] = {
    "markdown": render_markdown,
    "html": render_html,
    "junit": render_junit,
    "json": render_json,
}


def render(report: RunReport, fmt: str) -> str:
    return RENDERERS[fmt](report)


__all__ = [
    "RENDERERS",
    "RunReport",
    "build_report",
    "render",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
]
