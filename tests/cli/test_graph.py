"""``restore-planner graph`` end to end on small plan files."""

from __future__ import annotations

import pathlib

import pytest

from planner.cli.main import main
from tests.cli.plans import CYCLE

PLAN = """\
version: 1
restores:
  db:
    server: 94eba8b2-acc9-4d82-badc-127144cc5526
    backup: a5200268-74a5-4806-acc6-95793ab0228b
  app:
    for_each: [app-01, app-02]
    server: {name: "{{ each.value }}"}
    backup: a5200268-74a5-4806-acc6-95793ab0228c
    depends_on: [db]
"""



def test_prints_mermaid(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["graph", str(plan), "--format", "mermaid"]) == 0
    assert capsys.readouterr().out == (
        "flowchart LR\n"
        '  r_app_app_01["app[#quot;app-01#quot;]"]\n'
        '  r_app_app_02["app[#quot;app-02#quot;]"]\n'
        '  r_db["db"]\n'
        "  r_db --> r_app_app_01\n"
        "  r_db --> r_app_app_02\n"
    )


def test_cycle_is_a_diagnostic(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(CYCLE)
    assert main(["graph", str(plan), "--no-color"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{plan}:7:" in err
    assert "error[RP204]: dependency cycle: app -> db -> app" in err
    assert err.endswith("1 error, 0 warnings\n")
