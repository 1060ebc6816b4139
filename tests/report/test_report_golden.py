"""Golden files of every format for the hand-written drill log; UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.report import render
from planner.report.model import RunReport

GOLDEN = Path(__file__).parent / "golden"
FILES = {
    "markdown": "drill.md",
    "junit": "drill.junit.xml",
    "json": "drill.json",
    "html": "drill.html",
}


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_golden(report: RunReport, fmt: str) -> None:
    got = render(report, fmt)
    path = GOLDEN / FILES[fmt]
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), (
        f"{path} differs; rerun with UPDATE_GOLDEN=1 after checking"
    )
