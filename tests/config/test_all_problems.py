"""validate reports every problem, not the first: one block's failure hides nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.cli.main import main

PLAN = """\
version: 1
restores:
  app:
    server: {name: app-01}
    backup: {before: "{{ point_in_tme }}"}
    wave: 2h
  web:
    server: {name: web-01}
    backup: abc
    depends_on: [appp]
  db:
    server: {name: db-01}
    backup: abc
    depends_on: ['app["x"]']
"""


def test_template_schema_and_graph_errors_all_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["validate", str(plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    found = re.findall(r"^\S+plan\.yaml:(\d+):\d+: error\[(RP\d+)\]", err, re.M)
    # the template, the wave's type, and the unknown reference in another block;
    # a reference into the block that failed to evaluate is not called unknown
    assert found == [("5", "RP121"), ("6", "RP111"), ("10", "RP201")], err
    assert "did you mean app?" in err
