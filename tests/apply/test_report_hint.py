"""The summary of apply ends with the command that reports its run, and that command
works as printed from where apply ran (it failed whenever the plan was not in the
current directory: `report` with no path reads ./.restore-planner)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.drill import DrillKit, make_drill


@pytest.mark.parametrize("where", ["plan-dir", "above", "saved-plan"])
def test_the_printed_report_command_reports_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    plans = tmp_path / "plans"
    kit = DrillKit(make_drill(3, seed=1, levels=1), plans)
    monkeypatch.chdir(plans if where == "plan-dir" else tmp_path)
    with kit.cloud():
        if where == "saved-plan":
            assert main(["plan", str(kit.plan), "--out", "drill.plan", "--no-color"]) == 0
            assert main(["apply", "drill.plan", "--no-color"]) == 0
        else:
            assert main(["apply", str(kit.plan), "--auto-approve", "--no-color"]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("Report:")]
    argv = shlex.split(line.removeprefix("Report:"))
    assert argv[:2] == ["restore-planner", "report"]
    assert ("--state" in argv) == (where != "plan-dir")
    assert main([*argv[1:], "--format", "json"]) == 0
    report = capsys.readouterr().out
    assert '"run_id"' in report and argv[2] in report
