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


def test_depends_on_of_a_restore_that_failed_to_evaluate_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "restores:\n"
        "  db:\n"
        '    server: "{{ nope }}"\n'
        "    backup: b1\n"
        '    depends_on: [netwrk, "{{ nope }}", network]\n'
        "  network:\n"
        "    server: s1\n"
        "    backup: b2\n"
        "    depends_on: [db]\n"
    )
    assert main(["validate", str(plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    found = re.findall(r"^\S+plan\.yaml:(\d+):(\d+): error\[(RP\d+)\]", err, re.M)
    # the template errors, the unknown name written plainly, and the cycle through the
    # failed restore's plain entries; the templated entry is not guessed at
    assert ("6", "18", "RP201") in found, err
    assert "did you mean network?" in err
    assert ("3", "3", "RP204") in found, err  # at the failed restore's name
    assert not re.search(r"^error\[", err, re.M), err  # every error has a position
